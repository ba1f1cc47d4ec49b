"""gather / scatter / one_hot / take_along_axis against NumPy."""
import numpy as np
import pytest

import tensorstitch as ts
from helpers import ALL, NUMERIC, as_input, assert_close, covers, random_shape, run_graph


@covers("gather")
@pytest.mark.parametrize("dt", ALL, ids=lambda d: d.name)
@pytest.mark.parametrize("idt", [np.int32, np.int64])
def test_gather(dt, idt):
    rng = np.random.default_rng(1)
    for _ in range(4):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)), zero_prob=0)
        axis = int(rng.integers(-len(shape), len(shape)))
        n = shape[axis]
        idx = rng.integers(-n, n, random_shape(rng, rank=int(rng.integers(0, 3)))).astype(idt)
        feed, ex = as_input(rng.normal(0, 3, shape), dt)
        got = run_graph(lambda g, x, i: g.gather(x, i, axis), [feed, idx], rng)
        assert_close(got, np.take(ex, idx, axis=axis), dt)


@covers("scatter_add")
@pytest.mark.parametrize("dt", NUMERIC, ids=lambda d: d.name)
def test_scatter_add(dt):
    rng = np.random.default_rng(2)
    for _ in range(3):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)), zero_prob=0)
        axis = int(rng.integers(0, len(shape)))
        idx = rng.integers(0, shape[axis], (5,))
        ushape = shape[:axis] + (5,) + shape[axis + 1:]
        fx, ex = as_input(rng.integers(0, 5, shape), dt)
        fu, eu = as_input(rng.integers(0, 5, ushape), dt)
        want = np.array(ex, copy=True)
        moved = np.moveaxis(want, axis, 0)
        np.add.at(moved, idx, np.moveaxis(eu, axis, 0))
        got = run_graph(lambda g, x, i, u: g.scatter_add(x, i, u, axis), [fx, idx, fu], rng)
        assert_close(got, want, dt)


@covers("gather_nd", "scatter_nd_add")
@pytest.mark.parametrize("dt", [ts.float32, ts.int64, ts.bfloat16], ids=lambda d: d.name)
def test_gather_nd_scatter_nd(dt):
    rng = np.random.default_rng(3)
    fx, ex = as_input(rng.integers(0, 9, (4, 3, 2)), dt)
    idx = np.stack([rng.integers(0, 4, (5,)), rng.integers(-3, 3, (5,))], axis=-1)
    want = ex[idx[:, 0], idx[:, 1]]
    fu, eu = as_input(rng.integers(0, 9, (5, 2)), dt)
    acc = np.array(ex, copy=True)
    np.add.at(acc, (idx[:, 0], idx[:, 1]), eu)
    got = run_graph(lambda g, x, i, u: [g.gather_nd(x, i), g.scatter_nd_add(x, i, u)], [fx, idx, fu], rng)
    assert_close(got[0], want, dt)
    assert_close(got[1], acc, dt)


@covers("take_along_axis", "scatter_add_along_axis")
def test_take_along_axis():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 2))
    idx = rng.integers(0, 4, (3, 6, 2))
    u = rng.normal(size=(3, 6, 2))
    acc = x.copy()
    for a in range(3):
        for c in range(2):
            np.add.at(acc[a, :, c], idx[a, :, c], u[a, :, c])
    got = run_graph(lambda g, a, i, b: [g.take_along_axis(a, i, 1),
                                        g._op1("scatter_add_along_axis", [a, i, b], axis=1)], [x, idx, u], rng)
    np.testing.assert_allclose(got[0], np.take_along_axis(x, idx, 1))
    np.testing.assert_allclose(got[1], acc)


@covers("one_hot")
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_one_hot(axis):
    idx = np.array([[0, 2, 5], [1, -1, 3]], np.int32)  # 5 and -1 are out of range: zeros
    got = run_graph(lambda g, i: g.one_hot(i, 4, axis=axis, dtype=ts.float64), [idx], np.random.default_rng(0))
    want = np.moveaxis((idx[..., None] == np.arange(4)).astype(np.float64), -1, axis)
    np.testing.assert_array_equal(got, want)


def test_out_of_range_index_raises_and_changes_nothing():
    g = ts.Graph()
    v = g.variable(np.zeros(3, np.float32), name="v")
    i = g.placeholder((2,), ts.int32, name="i")
    picked = g.gather(v, i)
    upd = g.assign(v, v + 1.0)
    with pytest.raises(ts.ShapeError, match="index 7 is out of range"):
        g.run({i: np.array([0, 7], np.int32)}, [picked], [upd])
    np.testing.assert_array_equal(g.variable_value(v).numpy(), np.zeros(3))
