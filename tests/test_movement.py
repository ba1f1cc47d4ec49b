"""Shape and data-movement ops against NumPy, for every dtype (they move
bytes, so each element size is exercised), with 0-sized and -1 dims."""
import numpy as np
import pytest

import tensorstitch as ts
from helpers import ALL, as_input, assert_close, covers, random_shape, run_graph

DTS = pytest.mark.parametrize("dt", ALL, ids=lambda d: d.name)


def values(rng, shape, dt):
    return as_input(rng.normal(0, 3, shape), dt)


@covers("reshape", "expand_dims", "squeeze", "identity")
@DTS
def test_reshape_expand_squeeze(dt):
    rng = np.random.default_rng(1)
    for _ in range(4):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)))
        feed, ex = values(rng, shape, dt)
        n = int(np.prod(shape))
        got = run_graph(lambda g, x: [g.reshape(x, (-1,)), g.reshape(x, (n, 1)), g.expand_dims(x, 0),
                                      g.expand_dims(x, [-1, 0]), g.squeeze(g.expand_dims(x, 1), 1)], [feed], rng)
        assert_close(got[0], ex.reshape(-1), dt)
        assert_close(got[1], ex.reshape(n, 1), dt)
        assert_close(got[2], ex[None], dt)
        assert_close(got[3], np.expand_dims(ex, (0, -1)), dt)
        assert_close(got[4], ex, dt)
    feed, ex = values(rng, (1, 3, 1), dt)
    assert_close(run_graph(lambda g, x: g.squeeze(x), [feed]), ex.squeeze(), dt)
    assert_close(run_graph(lambda g, x: g.reshape(x, (3, -1)), [feed]), ex.reshape(3, -1), dt)


@covers("transpose")
@DTS
def test_transpose(dt):
    rng = np.random.default_rng(2)
    for rank in range(0, 5):
        shape = random_shape(rng, rank)
        perm = [int(p) for p in rng.permutation(rank)]
        feed, ex = values(rng, shape, dt)
        got = run_graph(lambda g, x: [g.transpose(x, perm), g.transpose(x)], [feed], rng)
        assert_close(got[0], np.transpose(ex, perm), dt)
        assert_close(got[1], np.transpose(ex), dt)


@covers("slice")
@DTS
def test_slice_and_indexing(dt):
    rng = np.random.default_rng(3)
    feed, ex = values(rng, (5, 4, 3), dt)
    cases = [
        (lambda g, x: x[1:3], ex[1:3]),
        (lambda g, x: x[::-1, ::2], ex[::-1, ::2]),
        (lambda g, x: x[-2:, 1, None], ex[-2:, 1, None]),
        (lambda g, x: x[..., 0], ex[..., 0]),
        (lambda g, x: x[4:1:-2, :, -1], ex[4:1:-2, :, -1]),
        (lambda g, x: x[3:3], ex[3:3]),  # zero-length
        (lambda g, x: x[10:], ex[10:]),
        (lambda g, x: x[-100:100:3], ex[-100:100:3]),
        (lambda g, x: g.slice(x, [1, None], [None, 2], [2, -1]), ex[1::2, :2:-1]),
        (lambda g, x: x[-1], ex[-1]),
    ]
    for build, want in cases:
        assert_close(run_graph(build, [feed], rng), want, dt)


@covers("concat", "split")
@DTS
def test_concat_split_stack(dt):
    rng = np.random.default_rng(4)
    for _ in range(3):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)))
        axis = int(rng.integers(-len(shape), len(shape)))
        a, ea = values(rng, shape, dt)
        other = list(shape)
        other[axis] = 2
        b, eb = values(rng, tuple(other), dt)
        got = run_graph(lambda g, x, y: [g.concat([x, y], axis), *g.split(g.concat([x, y], axis),
                                                                       [shape[axis], 2], axis),
                                          g.stack([x, x], axis=0)], [a, b], rng)
        assert_close(got[0], np.concatenate([ea, eb], axis), dt)
        assert_close(got[1], ea, dt)
        assert_close(got[2], eb, dt)
        assert_close(got[3], np.stack([ea, ea]), dt)
    a, ea = values(rng, (6, 2), dt)
    parts = run_graph(lambda g, x: g.split(x, 3, axis=0), [a], rng)
    for p, w in zip(parts, np.split(ea, 3)):
        assert_close(p, w, dt)


@covers("broadcast_to", "tile", "flip")
@DTS
def test_broadcast_tile_flip(dt):
    rng = np.random.default_rng(5)
    for _ in range(3):
        shape = random_shape(rng, rank=int(rng.integers(0, 4)))
        target = tuple(int(rng.integers(2, 4)) if d == 1 else d for d in shape)
        target = (2,) + target
        reps = [int(rng.integers(0, 3)) for _ in shape]
        feed, ex = values(rng, shape, dt)
        got = run_graph(lambda g, x: [g.broadcast_to(x, target), g.tile(x, reps), g.flip(x, None),
                                      g.flip(x, [0] if shape else [])], [feed], rng)
        assert_close(got[0], np.broadcast_to(ex, target), dt)
        assert_close(got[1], np.tile(ex, reps) if shape else ex, dt)
        assert_close(got[2], np.flip(ex), dt)
        assert_close(got[3], np.flip(ex, 0) if shape else ex, dt)


@covers("pad")
@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric", "edge"])
@DTS
def test_pad(dt, mode):
    rng = np.random.default_rng(6)
    for _ in range(3):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)), dims=(1, 2, 3, 4))
        pads = [(int(rng.integers(0, 4)), int(rng.integers(0, 4))) for _ in shape]
        feed, ex = values(rng, shape, dt)
        kwargs = {"constant_values": 2} if mode == "constant" else {}
        got = run_graph(lambda g, x: g.pad(x, pads, mode=mode, value=2), [feed], rng)
        assert_close(got, np.pad(ex, pads, mode=mode, **kwargs), dt)


@covers("shape_of")
def test_shape_of():
    x = np.zeros((2, 0, 3), np.float32)
    assert run_graph(lambda g, a: g.shape_of(a), [x], np.random.default_rng(0)).tolist() == [2, 0, 3]


@covers("broadcast_like", "sum_to_like", "reshape_like", "split_like", "movement_grad")
def test_internal_gradient_helpers():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 3, 4))
    like = rng.normal(size=(3, 1))
    big = rng.normal(size=(4, 3, 5))
    got = run_graph(lambda g, a, l, b: [g._op1("sum_to_like", [a, g.reshape(l, (1, 3, 1))]),
                                        g._op1("broadcast_like", [l, a]),
                                        g._op1("reshape_like", [a, g.reshape(a, (6, 4))]),
                                        *g._op("split_like", [b, l, a[:1]], axis=0)], [x, like, big], rng)
    np.testing.assert_allclose(got[0], x.sum(axis=(0, 2), keepdims=True).reshape(1, 3, 1))
    np.testing.assert_allclose(got[1], np.broadcast_to(like, (2, 3, 4)))
    np.testing.assert_allclose(got[2], x.reshape(6, 4))
    np.testing.assert_allclose(got[3], big[:3])
    np.testing.assert_allclose(got[4], big[3:])
    g = ts.Graph()
    with pytest.raises(ts.ShapeError, match="do not cover"):
        g._op("split_like", [g.placeholder((4, 3)), g.placeholder((3, 3)), g.placeholder((2, 3))], axis=0)
    # movement_grad is the adjoint of the gather it names: <slice(x), y> == <x, movement_grad(y)>.
    sl = dict(starts=[1, 0], ends=[3, 4], strides=[1, 2])
    xs, ys = rng.normal(size=(4, 4)), rng.normal(size=(2, 2))
    fwd, back = run_graph(lambda g, a, b: [g._op1("slice", [a], **sl),
                                           g._op1("movement_grad", [b, a], forward="slice", **sl)], [xs, ys])
    np.testing.assert_allclose(np.sum(fwd * ys), np.sum(xs * back))
