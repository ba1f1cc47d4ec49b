"""Element types: ``ts.float32`` and friends, and conversion from NumPy dtypes.

NumPy has no bfloat16; ``ml_dtypes`` (the package JAX uses) provides it, so
bfloat16 arrays round-trip as ``ml_dtypes.bfloat16`` NumPy arrays.
"""
import ml_dtypes
import numpy as np

from . import _core

DType = _core.DType
bool_ = _core.DType.bool
int8 = _core.DType.int8
uint8 = _core.DType.uint8
int32 = _core.DType.int32
int64 = _core.DType.int64
float16 = _core.DType.float16
bfloat16 = _core.DType.bfloat16
float32 = _core.DType.float32
float64 = _core.DType.float64

ALL = (bool_, int8, uint8, int32, int64, float16, bfloat16, float32, float64)

_TO_NUMPY = {d: np.dtype(d.name) for d in ALL if d is not bfloat16}
_TO_NUMPY[bfloat16] = np.dtype(ml_dtypes.bfloat16)


def as_dtype(dtype):
    """Return the ``ts.DType`` for a ts dtype, a NumPy dtype or type, or a name."""
    if isinstance(dtype, DType):
        return dtype
    if isinstance(dtype, str) and dtype == "bfloat16":
        return bfloat16
    try:
        name = np.dtype(dtype).name
    except (TypeError, ValueError):
        raise _core.DTypeError(f"{dtype!r:.80} is not a dtype; expected one of "
                               "bool, int8, uint8, int32, int64, float16, bfloat16, float32, float64") from None
    return _core.dtype_from_name(name)


def to_numpy_dtype(dtype):
    """The NumPy dtype storing ``dtype`` (``ml_dtypes.bfloat16`` for bfloat16)."""
    return _TO_NUMPY.get(as_dtype(dtype))


def is_floating(dtype):
    return as_dtype(dtype) in (float16, bfloat16, float32, float64)


def is_integer(dtype):
    return as_dtype(dtype) in (int8, uint8, int32, int64)


def _repr(self):
    return "ts." + self.name


DType.__repr__ = _repr
DType.__str__ = lambda self: self.name
DType.itemsize = property(lambda self: _core.dtype_size(self))
DType.is_floating = property(is_floating)
DType.is_integer = property(is_integer)
