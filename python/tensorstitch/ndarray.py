"""``ts.NDArray`` (a dense array on a device) and ``ts.asarray``."""
import math

import numpy as np

from . import _core
from ._dtypes import as_dtype, bfloat16, is_integer, to_numpy_dtype

NDArray = _core.NDArray
Device = _core.Device

MAX_RANK = 16


def _numpy(self):
    """The array as NumPy: a read-only zero-copy view on the CPU (bfloat16 as
    ``ml_dtypes.bfloat16``); arrays on a GPU are copied to the host."""
    if self.device.kind != "cpu":
        self = self._to_host()
    if self.dtype == bfloat16:
        return self._bits().view(to_numpy_dtype(bfloat16))
    return np.asarray(memoryview(self))


def _array(self, dtype=None, copy=None):
    a = _numpy(self)
    if copy:
        a = a.copy()
    return a if dtype is None else a.astype(dtype, copy=False)


def _dlpack_device(self):
    return (1, 0) if self.device.kind == "cpu" else (2, self.device.index)  # kDLCPU, kDLCUDA


def _repr(self):
    return f"ts.NDArray({_numpy(self)!r}, dtype={self.dtype!r}, device='{self.device}')"


NDArray.numpy = _numpy
NDArray.__array__ = _array
NDArray.__dlpack_device__ = _dlpack_device
NDArray.__repr__ = _repr
NDArray.__len__ = lambda self: self.shape[0] if self.shape else _raise_len()
NDArray.tolist = lambda self: _numpy(self).tolist()
NDArray.item = lambda self: _numpy(self).item()


def _raise_len():
    raise TypeError("len() of a 0-d NDArray")


def _resolve_device(device):
    if device is None:
        return None
    return device if isinstance(device, Device) else Device(str(device))


def _numpy_value(obj):
    """``np.asarray(obj)``, with a TypeError that names the value when NumPy
    cannot make an array of it (ragged lists, arbitrary objects)."""
    if isinstance(obj, np.ndarray):
        return obj  # its dtype is judged by asarray (DTypeError when unsupported)
    try:
        arr = np.asarray(obj)
    except (ValueError, TypeError, OverflowError) as e:
        raise TypeError(f"cannot make an array from {type(obj).__name__} {obj!r:.80}: {e}") from None
    if arr.dtype.kind not in "biuf" and arr.dtype != to_numpy_dtype(bfloat16):
        raise TypeError(f"cannot make an array from {type(obj).__name__} {obj!r:.80}: it holds "
                        f"{arr.dtype} values (strings, objects, complex numbers or integers beyond 64 bits); "
                        "expected bools, integers or floats")
    return arr


def _check_python_ints(obj, dtype):
    """Python integers converted to an integer ``dtype`` must fit: NumPy 2
    refuses ``np.int32(2**40)`` too, rather than wrapping."""
    try:
        values = np.asarray(obj, dtype=object).ravel()
    except ValueError as e:
        raise TypeError(f"cannot make an array from {type(obj).__name__} {obj!r:.80}: {e}") from None
    info = np.iinfo(to_numpy_dtype(dtype))
    for v in values:
        if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and not info.min <= v <= info.max:
            raise _core.DTypeError(f"Python integer {v} is out of range for dtype {dtype.name} "
                                   f"([{info.min}, {info.max}])")


def _scalar(value, dtype):
    """A 0-d array of a Python scalar (the common case of constants; fast)."""
    if is_integer(dtype):
        if isinstance(value, float) and not math.isfinite(value):
            raise _core.DTypeError(f"cannot convert {value} to {dtype.name}")
        _check_python_ints(value, dtype)
    return NDArray._wrap_numpy(np.array(value, to_numpy_dtype(dtype)), dtype)


def asarray(obj, device=None, dtype=None):
    """Make an ``NDArray`` from NumPy, buffer-protocol or DLPack objects.

    Zero-copy when ``obj`` is C-contiguous CPU memory of a supported dtype and
    no conversion is asked for; otherwise the data are copied. ``dtype``
    converts (``ts.bfloat16`` from any float array). ``device`` (e.g.
    ``"cuda"``) copies the result there.
    """
    dev = _resolve_device(device)
    if dev is not None and dev.kind != "cpu":
        if dev not in _core.devices():
            names = ", ".join(str(d) for d in _core.devices())
            raise _core.DeviceError(f"asarray: device '{dev}' is not available; available: {names}")
        arr = asarray(obj, None, dtype)
        return arr if arr.device == dev else arr._to_device(dev)
    if isinstance(obj, NDArray):
        if dtype is None or as_dtype(dtype) == obj.dtype:
            return obj
        return obj._astype(as_dtype(dtype))
    want = None if dtype is None else as_dtype(dtype)
    if want is not None and type(obj) in (float, int, bool) and want != bfloat16:
        return _scalar(obj, want)
    if not isinstance(obj, np.ndarray) and hasattr(obj, "__dlpack__"):
        arr = NDArray._from_dlpack(obj.__dlpack__())
        return arr if want is None or want == arr.dtype else arr._astype(want)
    if want is not None and is_integer(want) and not isinstance(obj, (np.ndarray, np.generic)):
        _check_python_ints(obj, want)
    arr = _numpy_value(obj)
    if not arr.dtype.isnative:  # big-endian data: convert, never reinterpret
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if want is not None:
        arr = arr.astype(to_numpy_dtype(want), copy=False)
    if arr.ndim > MAX_RANK:
        raise _core.ShapeError(f"asarray: rank {arr.ndim} (shape {arr.shape}) exceeds the maximum of {MAX_RANK}")
    try:
        ts_dtype = as_dtype(arr.dtype)
    except _core.DTypeError:
        raise _core.DTypeError(f"asarray: NumPy dtype {arr.dtype} is not supported; expected one of "
                               "bool, int8, uint8, int32, int64, float16, bfloat16, float32, float64") from None
    if not arr.flags.c_contiguous or not arr.flags.aligned:
        arr = np.ascontiguousarray(arr)
    return NDArray._wrap_numpy(arr, ts_dtype)
