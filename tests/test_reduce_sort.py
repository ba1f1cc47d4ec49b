"""Reductions, arg-reductions, sort/top_k/cumsum against NumPy in float64."""
import numpy as np
import pytest

import tensorstitch as ts
from helpers import FLOATS, INTS, NUMERIC, as_input, assert_close, covers, random_shape, run_graph, seed_of

REDUCE = {"reduce_sum": np.sum, "reduce_mean": np.mean, "reduce_max": np.max, "reduce_min": np.min,
          "reduce_prod": np.prod}


def random_axes(rng, rank):
    if rng.random() < 0.25:
        return None
    k = int(rng.integers(0, rank + 1))
    return [int(a) - (rank if rng.random() < 0.3 else 0) for a in rng.choice(rank, k, replace=False)]


def np_reduce(name, x, axes, keepdims, dt):
    axes = None if axes is None else tuple(axes)
    if name in ("reduce_max", "reduce_min") and x.size == 0 or (axes and any(x.shape[a] == 0 for a in axes)
                                                                 and name in ("reduce_max", "reduce_min")):
        # Empty max/min give the identity (-inf / +inf; lowest / highest integer), as JAX does.
        shape = np.sum(np.zeros(x.shape), axis=axes, keepdims=keepdims).shape
        big = np.inf if dt in FLOATS else np.iinfo(ts._dtypes.to_numpy_dtype(dt)).max
        small = -np.inf if dt in FLOATS else np.iinfo(ts._dtypes.to_numpy_dtype(dt)).min
        return np.full(shape, small if name == "reduce_max" else big)
    with np.errstate(all="ignore"):
        if name == "reduce_mean":
            return np.mean(x.astype(np.float64), axis=axes, keepdims=keepdims)
        if dt in INTS and name in ("reduce_sum", "reduce_prod"):  # NumPy's rule: accumulate in int64
            return REDUCE[name](x, axis=axes, keepdims=keepdims, dtype=np.int64)
        return REDUCE[name](x, axis=axes, keepdims=keepdims)


CASES = [(n, dt) for n in REDUCE for dt in NUMERIC]


@pytest.mark.parametrize("name,dt", CASES, ids=[f"{n}-{d.name}" for n, d in CASES])
def test_reduce(name, dt):
    covers(name)
    rng = np.random.default_rng(seed_of(name, dt.name))
    for trial in range(5):
        shape = random_shape(rng, rank=0 if trial == 0 else int(rng.integers(1, 4)))
        axes = random_axes(rng, len(shape))
        keepdims = bool(rng.random() < 0.5)
        raw = rng.normal(0, 1, shape) if name != "reduce_prod" else rng.uniform(0.5, 1.5, shape)
        if dt in INTS:
            raw = rng.integers(0 if dt == ts.uint8 else -3, 4, shape)
        feed, ex = as_input(raw, dt)
        got = run_graph(lambda g, x: getattr(g, name)(x, axes, keepdims), [feed], rng)
        want = np_reduce(name, ex, axes, keepdims, dt)
        out_dt = ts.float32 if name == "reduce_mean" and dt in INTS else dt
        # Half-precision sums round once at the end; compare with the tolerance of the count.
        assert_close(got, want, out_dt, f"{name} {dt.name} {shape} axes={axes} keepdims={keepdims}")


def test_reduce_bool_sum_counts():
    x = np.array([[True, False, True], [True, True, True]])
    assert run_graph(lambda g, a: g.reduce_sum(a, 1), [x]).tolist() == [2, 3]


@covers("argmax", "argmin")
@pytest.mark.parametrize("dt", NUMERIC, ids=lambda d: d.name)
def test_argmax_argmin(dt):
    rng = np.random.default_rng(5)
    for _ in range(4):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)), zero_prob=0)
        axis = int(rng.integers(-len(shape), len(shape)))
        feed, ex = as_input(rng.integers(0, 6, shape), dt)
        got = run_graph(lambda g, x: [g.argmax(x, axis), g.argmin(x, axis, keepdims=True), g.argmax(x)], [feed], rng)
        np.testing.assert_array_equal(got[0], np.argmax(ex, axis))
        np.testing.assert_array_equal(got[1], np.argmin(ex, axis, keepdims=True))
        np.testing.assert_array_equal(got[2], np.argmax(ex))


def test_argmax_nan_wins():
    x = np.array([1.0, np.nan, 3.0], np.float32)
    assert run_graph(lambda g, a: g.argmax(a, 0), [x]).item() == 1


@covers("sort", "argsort", "top_k")
@pytest.mark.parametrize("dt", NUMERIC, ids=lambda d: d.name)
def test_sort_argsort_topk(dt):
    rng = np.random.default_rng(6)
    for _ in range(4):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)))
        axis = int(rng.integers(-len(shape), len(shape)))
        feed, ex = as_input(rng.integers(0, 5, shape), dt)  # ties check stability
        k = min(2, shape[axis])
        got = run_graph(lambda g, x: [g.sort(x, axis), g.argsort(x, axis), g.argsort(x, axis, descending=True),
                                      *g.top_k(x, k, axis)], [feed], rng)
        assert_close(got[0], np.sort(ex, axis, kind="stable"), dt)
        np.testing.assert_array_equal(got[1], np.argsort(ex, axis, kind="stable"))
        desc = np.flip(np.argsort(np.flip(-np.asarray(ex, np.float64), axis), axis, kind="stable"), axis)
        desc = np.argsort(-np.asarray(ex, np.float64), axis, kind="stable")
        np.testing.assert_array_equal(got[2], desc)
        np.testing.assert_array_equal(got[4], np.take(desc, np.arange(k), axis))
        assert_close(got[3], np.take_along_axis(np.asarray(ex), np.take(desc, np.arange(k), axis), axis), dt)


def test_sort_nan_last():
    x = np.array([3.0, np.nan, -1.0, 2.0])
    got = run_graph(lambda g, a: [g.sort(a), g.sort(a, descending=True)], [x])
    np.testing.assert_array_equal(got[0], np.sort(x))
    np.testing.assert_array_equal(got[1], [np.nan, 3.0, 2.0, -1.0])


@covers("cumsum")
@pytest.mark.parametrize("dt", NUMERIC, ids=lambda d: d.name)
def test_cumsum(dt):
    rng = np.random.default_rng(7)
    for _ in range(4):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)))
        axis = int(rng.integers(-len(shape), len(shape)))
        feed, ex = as_input(rng.integers(0, 4, shape), dt)
        got = run_graph(lambda g, x: [g.cumsum(x, axis), g.cumsum(x, axis, exclusive=True),
                                      g.cumsum(x, axis, reverse=True)], [feed], rng)
        c = np.cumsum(ex, axis).astype(np.asarray(ex).dtype)
        assert_close(got[0], c, dt)
        assert_close(got[1], c - ex, dt)
        assert_close(got[2], np.flip(np.cumsum(np.flip(ex, axis), axis), axis).astype(np.asarray(ex).dtype), dt)


@covers("matmul")
@pytest.mark.parametrize("dt", NUMERIC, ids=lambda d: d.name)
def test_matmul(dt):
    rng = np.random.default_rng(8)
    shapes = [((3, 4), (4, 5)), ((4,), (4, 2)), ((2, 4), (4,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)),
              ((0, 3), (3, 2)), ((2, 0), (0, 3)), ((3, 2, 4), (4, 0))]
    for sa, sb in shapes:
        for ta in (False, True):
            for tb in (False, True):
                a_shape = sa[:-2] + (sa[-1], sa[-2]) if ta and len(sa) > 1 else sa
                b_shape = sb[:-2] + (sb[-1], sb[-2]) if tb and len(sb) > 1 else sb
                fa, ea = as_input(rng.integers(-3, 4, a_shape) if dt in INTS else rng.normal(size=a_shape), dt)
                fb, eb = as_input(rng.integers(-3, 4, b_shape) if dt in INTS else rng.normal(size=b_shape), dt)
                if dt == ts.uint8:
                    fa, ea = as_input(np.abs(ea), dt)
                    fb, eb = as_input(np.abs(eb), dt)
                got = run_graph(lambda g, a, b: g.matmul(a, b, ta, tb), [fa, fb], rng)
                A = np.swapaxes(ea, -1, -2) if ta and len(sa) > 1 else ea
                B = np.swapaxes(eb, -1, -2) if tb and len(sb) > 1 else eb
                want = np.matmul(np.asarray(A, np.float64), np.asarray(B, np.float64))
                if dt in INTS:
                    want = np.matmul(A, B)
                rtol = {ts.float16: 1e-2, ts.bfloat16: 5e-2}.get(dt)
                if rtol:
                    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=rtol * 4)
                else:
                    assert_close(got, want, dt, f"{sa}{'^T' * ta} @ {sb}{'^T' * tb}")
