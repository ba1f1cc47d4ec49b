"""ts.NDArray and ts.asarray: NumPy zero-copy, buffer protocol, DLPack."""
import numpy as np
import pytest

import tensorstitch as ts


def test_asarray_is_zero_copy_and_back():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    nd = ts.asarray(a)
    assert nd.shape == (2, 3) and nd.dtype == ts.float32 and str(nd.device) == "cpu"
    assert nd._data_ptr() == a.ctypes.data
    view = np.asarray(nd)
    assert view.ctypes.data == a.ctypes.data
    assert np.shares_memory(np.asarray(memoryview(nd)), a)


def test_outputs_are_numpy_views(monkeypatch):
    monkeypatch.setenv("TENSORSTITCH_DEVICE", "cpu")  # device results are copied to the host instead
    g = ts.Graph()
    x = g.placeholder((3,))
    (out,) = g.run({x: np.ones(3, np.float32)}, [x * 2.0])
    v1, v2 = np.asarray(out), out.numpy()
    assert v1.ctypes.data == v2.ctypes.data == out._data_ptr()


def test_dlpack_round_trip():
    a = np.arange(4, dtype=np.int64)
    nd = ts.asarray(a)
    assert nd.__dlpack_device__() == (1, 0)
    back = np.from_dlpack(nd)
    assert back.ctypes.data == a.ctypes.data
    nd2 = ts.asarray(back)
    assert nd2._data_ptr() == a.ctypes.data


@pytest.mark.parametrize("dt", ["bool", "int8", "uint8", "int32", "int64", "float16", "float32", "float64"])
def test_dtypes_round_trip(dt):
    a = (np.arange(5) % 2).astype(dt)
    nd = ts.asarray(a)
    assert nd.dtype == ts.as_dtype(dt)
    np.testing.assert_array_equal(nd.numpy(), a)


def test_bfloat16_converts():
    nd = ts.asarray(np.array([1.0, 1.00390625, 3.14159], np.float32), dtype=ts.bfloat16)
    assert nd.dtype == ts.bfloat16
    np.testing.assert_array_equal(nd.numpy(), np.array([1.0, 1.0, 3.140625], np.float32))


def test_non_contiguous_inputs_are_copied_correctly():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(ts.asarray(a).numpy(), a)


def test_zero_d_and_empty():
    assert ts.asarray(np.float32(3)).numpy().item() == 3
    assert ts.asarray(np.zeros((0, 2))).numpy().shape == (0, 2)


def test_devices():
    assert ts.Device("cpu") in ts.devices()
    gpus = [d for d in ts.devices() if d.kind == "cuda"]
    assert ts.default_device() == (gpus[0] if gpus else ts.Device("cpu"))
    assert str(ts.Device("cuda:1")) == "cuda:1"


def test_asarray_copies_to_a_device():
    gpus = [d for d in ts.devices() if d.kind == "cuda"]
    v = np.arange(6, dtype=np.float32).reshape(2, 3)
    if not gpus:
        with pytest.raises(ts.DeviceError, match="device 'cuda:0' is not available; available: cpu"):
            ts.asarray(v, device="cuda")
        return
    a = ts.asarray(v, device="cuda", dtype=ts.float64)
    assert a.device == gpus[0] and a.dtype == ts.float64
    np.testing.assert_array_equal(np.asarray(a), v)
    assert ts.asarray(a, device="cuda") is a
