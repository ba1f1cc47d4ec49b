"""Every error class, raised where the mistake is made, naming the op, its
name, the shapes/dtypes seen and what was expected; no crash, no change to
variables."""
import numpy as np
import pytest

import tensorstitch as ts


def test_error_hierarchy():
    for cls in (ts.ShapeError, ts.DTypeError, ts.GraphError, ts.FeedError):
        assert issubclass(cls, ts.Error) and issubclass(cls, ValueError)
    for cls in (ts.DeviceError, ts.CompileError):
        assert issubclass(cls, ts.Error) and issubclass(cls, RuntimeError)


def test_feed_errors():
    g = ts.Graph()
    x = g.placeholder((-1, 3), ts.float32, name="x")
    y = g.exp(x)
    with pytest.raises(ts.FeedError, match=r"x.*float32\(2, 4\).*expected float32\(-1, 3\)"):
        g.run({x: np.ones((2, 4), np.float32)}, [y])
    with pytest.raises(ts.FeedError, match=r"float64.*dtype"):
        g.run({x: np.ones((2, 3))}, [y])
    with pytest.raises(ts.FeedError, match="shape"):
        g.run({x: np.ones(3, np.float32)}, [y])
    with pytest.raises(ts.FeedError, match="'x'.*not fed"):
        g.run({}, [y])
    with pytest.raises(ts.FeedError, match="only placeholders"):
        g.run({y: np.ones((1, 3), np.float32)}, [y])
    exe = g.compile({x: ts.TensorType((-1, 3), ts.float32)}, [y])
    with pytest.raises(ts.FeedError, match="missing"):
        exe.run({})
    with pytest.raises(ts.FeedError, match="got 2 feeds"):
        exe.run([np.ones((1, 3), np.float32)] * 2)


def test_graph_errors():
    g1, g2 = ts.Graph(), ts.Graph()
    a = g1.placeholder((2,), name="a")
    b = g2.placeholder((2,), name="b")
    with pytest.raises(ts.GraphError, match="another graph"):
        g1.add(a, b)
    with pytest.raises(ts.GraphError, match="another graph"):
        g1.run({b: np.ones(2, np.float32)}, [a])
    with pytest.raises(ts.GraphError, match="another graph"):
        g2.run({}, [a])


def test_shape_errors_name_the_op_and_shapes():
    g = ts.Graph()
    a = g.placeholder((2, 3), name="a")
    b = g.placeholder((4, 5), name="b")
    with pytest.raises(ts.ShapeError, match=r"matmul 'mm'.*float32\(2, 3\).*float32\(4, 5\).*3 vs 4"):
        g.matmul(a, b, name="mm")
    with pytest.raises(ts.ShapeError, match=r"add 'plus': cannot broadcast shapes float32\(2, 3\) and float32\(4, 5\)"):
        g.add(a, b, name="plus")
    with pytest.raises(ts.ShapeError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        g.reshape(a, (4,))
    with pytest.raises(ts.ShapeError, match="only axis 0 may differ"):
        g.concat([a, b], 0)
    with pytest.raises(ts.ShapeError, match="axis 2 is out of range for rank 2"):
        g.reduce_sum(a, 2)
    with pytest.raises(ts.ShapeError, match="repeated axis"):
        g.reduce_sum(a, [0, -2])
    with pytest.raises(ts.ShapeError, match="broadcast"):
        g.broadcast_to(a, (3, 3))
    with pytest.raises(ts.ShapeError, match="permutation"):
        g.transpose(a, [0, 0])
    with pytest.raises(ts.ShapeError, match="k = 5"):
        g.top_k(a, 5)


def test_run_time_shape_mismatch_is_an_error():
    g = ts.Graph()
    a = g.placeholder((-1,), name="a")
    b = g.placeholder((-1,), name="b")
    with pytest.raises(ts.ShapeError, match="broadcast"):
        g.run({a: np.ones(2, np.float32), b: np.ones(3, np.float32)}, [a + b])


def test_dtype_errors():
    g = ts.Graph()
    f = g.placeholder((2,), ts.float32)
    b = g.placeholder((2,), ts.bool)
    with pytest.raises(ts.DTypeError, match=r"subtract.*bool"):
        g.subtract(b, b)
    with pytest.raises(ts.DTypeError, match="integer dtype for indices"):
        g.gather(f, f)
    with pytest.raises(ts.DTypeError, match="unsupported dtype"):
        ts.as_dtype("complex64")
    with pytest.raises(ts.DTypeError, match="not supported"):
        ts.asarray(np.ones(2, np.int16))


def test_device_errors():
    with pytest.raises(ts.DeviceError, match="unknown device"):
        ts.Device("tpu")
    g = ts.Graph()
    x = g.placeholder((2,))
    with pytest.raises(ts.DeviceError, match="not available"):
        g.run({x: np.ones(2, np.float32)}, [x], device="cuda:3")


def test_failed_run_changes_no_variable():
    g = ts.Graph()
    v = g.variable(np.zeros(2, np.float32), name="v")
    i = g.placeholder((1,), ts.int32)
    ok = g.assign(v, v + 1.0)
    bad = g.gather(v, i)
    with pytest.raises(ts.ShapeError):
        g.run({i: np.array([9], np.int32)}, [bad], [ok])
    np.testing.assert_array_equal(g.variable_value(v).numpy(), [0, 0])
    g.run({i: np.array([1], np.int32)}, [bad], [ok])
    np.testing.assert_array_equal(g.variable_value(v).numpy(), [1, 1])


def test_symbolic_tensor_has_no_truth_value():
    g = ts.Graph()
    with pytest.raises(TypeError):
        bool(g.placeholder((1,)))


def test_absurd_sizes_raise_instead_of_crashing():
    g = ts.Graph()
    x = g.placeholder((1,))
    with pytest.raises(ts.Error):
        g.run({x: np.ones(1, np.float32)}, [g.broadcast_to(x, (2**40, 2**40))])
    with pytest.raises(ts.Error):
        g.run({x: np.ones(1, np.float32)}, [g.broadcast_to(x, (2**20, 2**20, 2**20))])


def test_process_exits_cleanly_after_errors_and_conversions():
    """Exceptions, converted feeds and zero-copy arrays alive at exit must not
    crash the interpreter's shutdown."""
    import subprocess
    import sys
    script = """
import numpy as np, tensorstitch as ts
g = ts.Graph()
x = g.placeholder((3,), ts.float32)
b = g.placeholder((2,), ts.bfloat16)
keep = g.run({x: [1, 2, 3], b: np.ones(2, np.float32)}, [x * 2, b + 1.0])
held = ts.asarray(np.arange(4.0))
try:
    g.run({x: np.ones(4, np.float32)}, [x])
except ts.FeedError:
    pass
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
