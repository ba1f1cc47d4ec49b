"""The Python surface as PyTorch and JAX users expect it: no silent traps
(==, list feeds, bfloat16, aliasing, stray targets, renamed variables),
NumPy-style conveniences, readable reprs, graph pictures and checkpoints that
an inference graph can load."""
import ctypes
import re

import ml_dtypes
import numpy as np
import pytest

import tensorstitch as ts


def run1(g, feeds, t):
    return np.asarray(g.run(feeds, [t])[0])


# ---- silent wrong results ----

def test_equality_operators_build_ops():
    g = ts.Graph()
    x = g.placeholder((4,), ts.float32, name="x")
    xv = np.array([0.0, 1.0, 0.0, 2.0], np.float32)
    np.testing.assert_array_equal(run1(g, {x: xv}, g.select(x == 0, 5.0, x)), [5, 1, 5, 2])
    np.testing.assert_array_equal(run1(g, {x: xv}, x != 0), [False, True, False, True])
    logits = g.placeholder((3, 2), ts.float32)
    labels = g.placeholder((3,), ts.int64)
    accuracy = g.reduce_mean(g.cast(g.argmax(logits, 1) == labels, ts.float32))
    feeds = {logits: np.array([[1, 0], [0, 1], [1, 0]], np.float32), labels: np.array([0, 1, 1])}
    assert run1(g, feeds, accuracy) == pytest.approx(2 / 3)
    assert isinstance(x == 0, ts.Tensor) and isinstance(0 == x, ts.Tensor)


def test_tensors_stay_usable_as_dict_and_set_keys():
    g = ts.Graph()
    x, y = g.placeholder((2,), name="x"), g.placeholder((2,), name="y")
    feeds = {x: np.ones(2, np.float32), y: np.zeros(2, np.float32)}
    assert feeds[x].tolist() == [1, 1] and len({x, y, x}) == 2
    same = x.op.outputs[0]  # another path to the same tensor gives the same object
    assert same is x and feeds[same].tolist() == [1, 1]
    np.testing.assert_array_equal(run1(g, feeds, x + y), [1, 1])


def test_logical_operators_on_bool_tensors():
    g = ts.Graph()
    x = g.placeholder((4,), ts.float32)
    xv = np.array([-1.0, 0.5, 2.0, 3.0], np.float32)
    a, b = x > 0, x < 2.5
    np.testing.assert_array_equal(run1(g, {x: xv}, a & b), (xv > 0) & (xv < 2.5))
    np.testing.assert_array_equal(run1(g, {x: xv}, a | b), (xv > 0) | (xv < 2.5))
    np.testing.assert_array_equal(run1(g, {x: xv}, a ^ b), (xv > 0) ^ (xv < 2.5))
    np.testing.assert_array_equal(run1(g, {x: xv}, ~a), ~(xv > 0))
    with pytest.raises(ts.DTypeError, match="'&' takes bool tensors.*float32"):
        x & a


@pytest.mark.parametrize("dtype,value,bad", [(ts.int32, [1.5, 2.7], "1.5"), (ts.int32, 2**40, str(2**40)),
                                             (ts.uint8, [300, -1], "300"), (ts.bool, [0, 2], "2"),
                                             (ts.float16, [1e6], "1000000.0")], ids=str)
def test_lossy_python_feeds_raise(dtype, value, bad):
    g = ts.Graph()
    p = g.placeholder(None, dtype, name="inp")
    with pytest.raises(ts.FeedError, match=rf"placeholder 'inp'.*{re.escape(bad)}.*{dtype.name}"):
        g.run({p: value}, [g.identity(p)])
    exe = g.compile({p: ts.TensorType(None, dtype)}, [g.identity(p)])
    with pytest.raises(ts.FeedError, match="placeholder 'inp'"):
        exe.run([value])


def test_exact_python_feeds_convert():
    g = ts.Graph()
    i = g.placeholder((2,), ts.int32)
    f = g.placeholder((2,), ts.float32)
    assert run1(g, {i: [1.0, -2.0]}, i).tolist() == [1, -2]
    assert run1(g, {f: [1, 2]}, f).tolist() == [1.0, 2.0]


def test_bfloat16_round_trips_through_numpy_and_dlpack():
    values = np.array([1.5, -2.25, 3.0e38, 0.0], ml_dtypes.bfloat16)
    nd = ts.asarray(values)
    assert nd.dtype == ts.bfloat16
    back = np.asarray(nd)
    assert back.dtype == ml_dtypes.bfloat16
    np.testing.assert_array_equal(back.astype(np.float32), values.astype(np.float32))
    assert nd.numpy().dtype == ml_dtypes.bfloat16
    g = ts.Graph()
    x = g.placeholder((4,), ts.bfloat16)
    assert np.asarray(g.run({x: values}, [x * 2])[0]).dtype == ml_dtypes.bfloat16
    torch = pytest.importorskip("torch")
    t = torch.from_dlpack(nd)
    assert t.dtype == torch.bfloat16
    np.testing.assert_array_equal(t.float().numpy(), values.astype(np.float32))
    src = torch.tensor([1.0, 2.5, -3.0], dtype=torch.bfloat16)
    got = ts.asarray(src)
    assert got.dtype == ts.bfloat16 and got.numpy().astype(np.float32).tolist() == [1.0, 2.5, -3.0]


class DLPackOnly:
    """An array that offers nothing but DLPack, so ts.asarray must take that path."""

    def __init__(self, array):
        self.array = array

    def __dlpack__(self, **kwargs):
        return self.array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.array.__dlpack_device__()


def test_dlpack_import_of_strided_and_unsupported_arrays():
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(ts.asarray(DLPackOnly(base)).numpy(), base)
    np.testing.assert_array_equal(ts.asarray(DLPackOnly(base.T)).numpy(), base.T)  # strided: gathered
    np.testing.assert_array_equal(ts.asarray(DLPackOnly(base[:, 1])).numpy(), [1, 5, 9])
    np.testing.assert_array_equal(ts.asarray(DLPackOnly(base[::-1])).numpy(), base[::-1])
    for dtype in (np.complex64, np.int16, np.uint32):
        with pytest.raises(ts.DTypeError, match="DLPack dtype"):
            ts.asarray(DLPackOnly(np.zeros(2, dtype)))
    bf16 = ts.asarray(np.array([1.5, -2.0], ml_dtypes.bfloat16))
    again = ts.asarray(DLPackOnly(bf16))  # our own export, read back by our importer
    assert again.dtype == ts.bfloat16 and again.numpy().astype(np.float32).tolist() == [1.5, -2.0]


def test_results_never_alias_feeds():
    g = ts.Graph()
    x = g.placeholder((3,), ts.float32)
    feed = np.array([1, 2, 3], np.float32)
    (out,) = g.run({x: feed}, [g.identity(x)])
    feed[:] = 0
    assert np.asarray(out).tolist() == [1, 2, 3]


@pytest.mark.parametrize("target", [np.ones(3), 3.0, "x", None], ids=["ndarray", "float", "str", "none"])
def test_targets_must_be_tensors_of_the_graph(target):
    g = ts.Graph()
    x = g.placeholder((3,))
    with pytest.raises(ts.GraphError, match="targets must be tensors"):
        g.run({x: np.ones(3, np.float32)}, [target])
    with pytest.raises(ts.GraphError, match="another graph"):
        g.run({}, [ts.Graph().placeholder((1,))])


def test_duplicate_variable_names_raise(tmp_path):
    g = ts.Graph()
    w = g.variable(np.zeros(2, np.float32), name="w")
    with pytest.raises(ts.GraphError, match="'w'.*already used"):
        g.variable(np.ones(2, np.float32), name="w")
    a, b = g.variable(np.zeros(1, np.float32)), g.variable(np.zeros(1, np.float32))
    assert {a.name, b.name, w.name} == {"variable", "variable_1", "w"}
    ts.save_variables(g, tmp_path / "c.safetensors")
    from safetensors.numpy import load_file
    assert set(load_file(str(tmp_path / "c.safetensors"))) == {"w", "variable", "variable_1"}


# ---- what users reach for first ----

def test_none_dims_mean_run_time_sizes():
    g = ts.Graph()
    x = g.placeholder((None, 3))
    assert x.shape == (-1, 3)
    assert run1(g, {x: np.ones((5, 3), np.float32)}, x.sum(1)).shape == (5,)


def test_tensor_methods():
    g = ts.Graph()
    x = g.placeholder((2, 3), ts.float32)
    xv = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert x.ndim == 2 and x.shape == (2, 3) and x.T.shape == (3, 2)
    checks = [(x.T, xv.T), (x.sum(), xv.sum()), (x.sum(0), xv.sum(0)), (x.mean(1, keepdims=True), xv.mean(1, keepdims=True)),
              (x.max(), xv.max()), (x.min(0), xv.min(0)), (x.prod(1), xv.prod(1)), (x.reshape(3, 2), xv.reshape(3, 2)),
              (x.reshape((6,)), xv.reshape(6)), (x.transpose(1, 0), xv.T), (x.transpose(), xv.T),
              (x.argmax(1), xv.argmax(1)), (x.argmin(), xv.argmin())]
    for t, want in checks:
        np.testing.assert_allclose(run1(g, {x: xv}, t), want)
    assert x.astype(ts.int32).dtype == ts.int32 and x.astype(np.float64).dtype == ts.float64
    for method in ("T", "sum", "mean", "max", "reshape", "astype", "transpose"):
        assert getattr(ts.Tensor, method).__doc__


def test_bool_of_a_tensor_names_what_exists():
    g = ts.Graph()
    x = g.placeholder((2,), name="x")
    with pytest.raises(TypeError, match=r"'x'.*g\.select") as info:
        bool(x)
    assert "if_then_else" not in str(info.value)


def test_reprs_and_dtype_names():
    assert str(ts.float32) == "float32" and repr(ts.float32) == "ts.float32" and f"{ts.bfloat16}" == "bfloat16"
    g = ts.Graph()
    x = g.placeholder((-1, 3), name="x")
    exe = g.compile({x: ts.TensorType((-1, 3), ts.float32)}, [g.exp(x) * 2])
    assert re.fullmatch(r"<ts\.Executable feeds=\(x: float32\(-1, 3\)\) targets=\['multiply'\] not compiled yet>",
                        repr(exe)), repr(exe)
    exe.run([np.ones((2, 3), np.float32)])
    assert repr(exe).endswith("1 kernel>")
    future = exe.run_async([np.ones((2, 3), np.float32)])
    future.result()
    assert repr(future) == "<ts.Future finished>"
    bad = exe.run_async([np.ones((2, 4), np.float32)])
    assert bad.exception() is not None and repr(bad) == "<ts.Future failed>"


def test_graph_and_executable_pictures(tmp_path):
    g = ts.Graph()
    x = g.placeholder((-1, 3), name="x")
    w = g.constant(np.ones((3, 3), np.float32), name="w")
    y = g.relu(x @ w + 1.0)
    z = g.reduce_sum(g.exp(y), 1)
    dot = g.to_dot()
    assert dot.startswith("digraph") and '"x" -> "matmul"' in dot and "float32(-1, 3)" in dot
    exe = g.compile({x: ts.TensorType((4, 3), ts.float32)}, [y, z])
    picture = exe.to_dot()
    assert picture.count("subgraph cluster_") == len(re.findall(r"kernel \d+:", exe.explain()))
    assert '"relu"' in picture and "cluster_0" in picture
    with pytest.raises(ts.CompileError, match="not been compiled"):
        g.compile({x: ts.TensorType((-1, 3), ts.float32)}, [y]).to_dot()
    graphviz = pytest.importorskip("graphviz")
    try:
        path = exe.to_svg(tmp_path / "exe.svg")
    except ts.Error as e:
        pytest.skip(str(e))  # the graphviz package is there, Graphviz's dot program is not
    assert "<svg" in path.read_text() and graphviz


def test_explain_lists_signatures_in_numeric_order():
    g = ts.Graph()
    x = g.placeholder((-1, 3))
    exe = g.compile({x: ts.TensorType((-1, 3), ts.float32)}, [x * 2])
    for n in (10, 2, 9, 100, 1):
        exe.run([np.ones((n, 3), np.float32)])
    sigs = re.findall(r"signature float32\((\d+), 3\)", exe.explain())
    assert sigs == ["1", "2", "9", "10", "100"]


def test_inference_graph_loads_a_training_checkpoint(tmp_path):
    g = ts.Graph()
    x = g.placeholder((None, 2))
    w = g.variable(np.ones((2, 2), np.float32), name="w")
    loss = g.reduce_sum(g.square(x @ w))
    step = ts.optim.Adam(0.1).minimize(g, loss)
    g.run({x: np.ones((3, 2), np.float32)}, [loss], step)
    path = tmp_path / "model.safetensors"
    ts.save_variables(g, path)
    names = {v.name for v in g.variables()}
    assert {"w", "optimizer/adam/step", "optimizer/adam/w/m", "optimizer/adam/w/v"} <= names
    inference = ts.Graph()
    w2 = inference.variable(np.zeros((2, 2), np.float32), name="w")
    ts.load_variables(inference, path)  # strict, optimizer state skipped
    np.testing.assert_array_equal(np.asarray(inference.variable_value(w2)), np.asarray(g.variable_value(w)))
    with pytest.raises(ts.GraphError, match="unexpected.*optimizer/adam/step"):
        ts.load_variables(inference, path, optimizer_state=True)
    again = ts.Graph()
    again.variable(np.zeros((2, 2), np.float32), name="w")
    ts.optim.Adam(0.1).minimize(again, again.reduce_sum(again.variables()[0]))
    ts.load_variables(again, path, optimizer_state=True)
    second = ts.optim.Adam(0.1).minimize(again, again.reduce_sum(again.variables()[0]))
    assert second and any(v.name.startswith("optimizer/adam_1/") for v in again.variables())


def test_variable_value_is_a_copy():
    g = ts.Graph()
    v = g.variable(np.zeros(2, np.float32), name="v")
    value = g.variable_value(v)
    shared = ts.NDArray._from_dlpack(value.__dlpack__())  # a consumer that writes through DLPack
    ctypes.c_float.from_address(shared._data_ptr()).value = 7.0
    assert np.asarray(value).tolist() == [7, 0]
    assert np.asarray(g.variable_value(v)).tolist() == [0, 0]
