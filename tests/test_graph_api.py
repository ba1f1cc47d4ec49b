"""Graph building: placeholders, constants, variables, names, operations,
control dependencies and the Tensor/Operation views."""
import numpy as np
import pytest

import tensorstitch as ts
from helpers import covers


@covers("placeholder", "constant", "variable", "read_variable", "assign")
def test_tensor_and_operation_views():
    g = ts.Graph()
    x = g.placeholder((-1, 3), ts.float32, name="x")
    u = g.placeholder(None, ts.int32, name="u")
    c = g.constant([1.0, 2.0, 3.0])
    y = g.add(x, c, name="y")
    assert x.shape == (-1, 3) and x.dtype == ts.float32 and x.name == "x"
    assert u.shape is None
    assert c.dtype == ts.float32 and c.shape == (3,)
    assert y.shape == (-1, 3) and y.op.type == "add" and y.op.name == "y" and y.graph is g
    assert y.op.inputs == [x, c] and y.op.outputs == [y]
    assert g.constant(2).dtype == ts.int32 and g.constant(True).dtype == ts.bool
    assert g.constant(np.arange(3)).dtype == ts.int64


def test_names_are_unique():
    g = ts.Graph()
    a = g.placeholder((1,), name="a")
    b = g.placeholder((1,), name="a")
    assert a.name == "a" and b.name != "a"


def test_variables_and_assignment_semantics():
    g = ts.Graph()
    v = g.variable(np.array([1.0, 2.0], np.float32), name="v")
    inc = g.assign(v, v + 1.0)
    assert [t.name for t in g.variables()] == ["v"]
    # Reads see the value at the start of the run.
    (seen,) = g.run(targets=[v * 10.0], target_ops=[inc])
    np.testing.assert_array_equal(seen.numpy(), [10, 20])
    np.testing.assert_array_equal(g.variable_value(v).numpy(), [2, 3])
    # ... unless a control dependency orders the read after the assignment.
    inc2 = g.assign(v, v + 1.0)
    with g.control_dependencies([inc2]):
        after = g.read_variable(v)
    (seen,) = g.run(targets=[after])
    np.testing.assert_array_equal(seen.numpy(), [3, 4])
    assert inc2 in after.op.control_dependencies


def test_variable_value_returned_is_not_aliased_by_later_runs():
    g = ts.Graph()
    v = g.variable(np.zeros(2, np.float32))
    step = g.assign(v, v + 1.0)
    (before,) = g.run(targets=[v])
    g.run(target_ops=[step])
    np.testing.assert_array_equal(before.numpy(), [0, 0])


def test_assign_from_a_feed_copies():
    g = ts.Graph()
    v = g.variable(np.zeros(2, np.float32))
    x = g.placeholder((2,))
    feed = np.ones(2, np.float32)
    g.run({x: feed}, target_ops=[g.assign(v, x)])
    feed[:] = 5
    np.testing.assert_array_equal(g.variable_value(v).numpy(), [1, 1])


def test_set_variable_value_and_errors():
    g = ts.Graph()
    v = g.variable(np.zeros((2, 2), np.float32), name="w")
    g.set_variable_value(v, np.ones((2, 2)))
    np.testing.assert_array_equal(g.run(targets=[v])[0].numpy(), np.ones((2, 2)))
    with pytest.raises(ts.ShapeError, match="w"):
        g.set_variable_value(v, np.ones(3))
    with pytest.raises(ts.DTypeError):
        g.assign(v, g.constant(np.ones((2, 2), np.int32)))
    with pytest.raises(ts.ShapeError, match="assign"):
        g.assign(v, g.constant(np.ones((3, 2), np.float32)))
    with pytest.raises(ts.GraphError, match="expected a variable"):
        g.assign(v + 1.0, v)


def test_rank_16_and_zero_sized():
    g = ts.Graph()
    shape = (1,) * 16
    x = g.placeholder(shape)
    (out,) = g.run({x: np.ones(shape, np.float32)}, [x * 2.0])
    assert out.shape == shape
    with pytest.raises(ts.ShapeError, match="16"):
        g.placeholder((1,) * 17)
    with pytest.raises(ts.ShapeError, match="16"):
        g.expand_dims(x, 0)
    z = g.placeholder((0, 3))
    (out,) = g.run({z: np.zeros((0, 3), np.float32)}, [g.reduce_sum(z * 2.0, 0)])
    np.testing.assert_array_equal(out.numpy(), np.zeros(3))


def test_constants_snapshot_their_value():
    g = ts.Graph()
    source = np.array([1.0, 2.0], np.float32)
    c = g.constant(source)
    source[:] = 7
    np.testing.assert_array_equal(g.run(targets=[c * 1.0])[0].numpy(), [1, 2])
