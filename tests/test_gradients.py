"""Gradients of every differentiable op against central finite differences in
float64, on random inputs with broadcasting and -1 dims; second derivatives;
gradient errors. Ops are checked from the same tables the forward tests use,
and test_zz_gradient_coverage.py fails for an op no check went through."""
import numpy as np
import pytest

import tensorstitch as ts
from gradcheck import CHECKED_OPS, central_differences, check_gradients
from helpers import broadcast_shapes, random_shape, seed_of
import test_elementwise as te

def nonzero_shape(rng, rank=None):
    return random_shape(rng, rank, dims=(1, 2, 3), zero_prob=0)


# Elementwise: every differentiable op of the registry, sampled from its declared domains.
# stop_gradient's gradient is zero by definition, not its derivative: tests/test_nn.py checks it.
DIFF_UNARY = [n for n in te.UNARY if te.INFO[n]["differentiable"] and n != "stop_gradient"]
DIFF_BINARY = [n for n in te.BINARY if te.INFO[n]["differentiable"]]


@pytest.mark.parametrize("name", DIFF_UNARY)
def test_unary_gradient(name):
    rng = np.random.default_rng(seed_of(name))
    x = te.domain(name, 0)(rng, nonzero_shape(rng))
    if name in ("abs", "relu", "sign", "floor", "ceil", "round"):
        x = np.where(np.abs(x - np.round(x)) < 0.05, x + 0.1, x)  # away from kinks
    check_gradients(lambda g, a: getattr(g, name)(a), [x], rng=rng)


@pytest.mark.parametrize("name", DIFF_BINARY)
def test_binary_gradient_with_broadcasting(name):
    da, db = te.domain(name, 0), te.domain(name, 1)
    rng = np.random.default_rng(seed_of(name))
    for _ in range(2):
        sa, sb = [tuple(max(d, 1) for d in s) for s in broadcast_shapes(rng, 2)]
        a, b = da(rng, sa), db(rng, sb)
        if name == "power":
            a = np.abs(a) + 0.5
        if name in ("modulo", "floor_divide"):
            b = np.abs(b) + 0.5
            q = a / b
            a = np.where(np.abs(q - np.round(q)) < 0.05, a + 0.2 * b, a)
        check_gradients(lambda g, x, y: getattr(g, name)(x, y), [a, b], rng=rng)


def test_select_clamp_cast_identity_gradients():
    rng = np.random.default_rng(3)
    cond = rng.random((2, 3)) < 0.5
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    check_gradients(lambda g, c, x, y: g.select(c, x, y), [cond, a, b], rng=rng)
    x = rng.uniform(-2, 2, (3, 4))
    lo, hi = np.full((4,), -1.0) + rng.uniform(-0.1, 0.1, 4), np.full((3, 1), 1.0)
    x = np.where(np.abs(np.abs(x) - 1) < 0.1, 0.0, x)
    check_gradients(lambda g, v, l, h: g.clamp(v, l, h), [x, lo, hi], rng=rng)
    check_gradients(lambda g, v: g.cast(g.cast(v, ts.float64), ts.float64), [x], rng=rng)


def test_movement_gradients():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 4))
    y = rng.normal(size=(2, 1, 4))
    cases = [
        lambda g, a, b: g.reshape(a, (6, -1)),
        lambda g, a, b: g.squeeze(g.expand_dims(a, [0, 2]), 0),
        lambda g, a, b: g.transpose(a, [2, 0, 1]),
        lambda g, a, b: a[1:, ::-2, None, 1:3],
        lambda g, a, b: g.concat([a, b, a], 1),
        lambda g, a, b: g.split(a, [1, 2], 1),
        lambda g, a, b: g.stack([a, a * 2.0], 1),
        lambda g, a, b: g.broadcast_to(b, (3, 2, 3, 4)),
        lambda g, a, b: g.tile(b, [2, 3, 1]),
        lambda g, a, b: g.flip(a, [0, 2]),
        lambda g, a, b: g.pad(a, [(1, 0), (2, 1), (0, 3)], "constant", 5.0),
        lambda g, a, b: g.pad(a, [(1, 1), (2, 1), (0, 3)], "reflect"),
        lambda g, a, b: g.pad(a, [(1, 2), (3, 1), (0, 3)], "symmetric"),
        lambda g, a, b: g.pad(a, [(1, 0), (2, 1), (0, 3)], "edge"),
        lambda g, a, b: g._op1("reshape_like", [a, g.reshape(a, (4, 6))]),
        lambda g, a, b: g._op1("broadcast_like", [b, a]),
        lambda g, a, b: g._op1("sum_to_like", [a, b]),
        lambda g, a, b: g._op("split_like", [a, b, g.slice(a, [0, 0], [2, 2])], axis=1),
        lambda g, a, b: g._op1("movement_grad", [a[:, ::2], a], forward="slice", starts=[0, 0], ends=[2, 3],
                               strides=[1, 2]),
    ]
    for build in cases:
        check_gradients(build, [x, y], rng=rng)


def test_indexing_and_sort_gradients():
    rng = np.random.default_rng(5)
    x = rng.permutation(24).reshape(4, 6).astype(np.float64) / 7  # distinct values: sort is smooth
    idx = np.array([2, 0, 2, 3])
    nd = np.array([[1, 2], [3, -1], [1, 2]])
    along = rng.integers(0, 6, (4, 5))
    upd = rng.normal(size=(4, 4))
    check_gradients(lambda g, a, i: g.gather(a, i, 0), [x, idx], rng=rng)
    check_gradients(lambda g, a, i: g.gather(a, i, 1), [x, idx], rng=rng)
    check_gradients(lambda g, a, i: g.gather_nd(a, i), [x, nd], rng=rng)
    check_gradients(lambda g, a, i, u: g.scatter_add(a, i, u, 1), [x, idx, upd], rng=rng)
    check_gradients(lambda g, a, i, u: g.scatter_nd_add(a, i, u), [x, nd, rng.normal(size=(3,))], rng=rng)
    check_gradients(lambda g, a, i: g.take_along_axis(a, i, 1), [x, along], rng=rng)
    check_gradients(lambda g, a, i, u: g._op1("scatter_add_along_axis", [a, i, u], axis=1),
                    [x, along, rng.normal(size=(4, 5))], rng=rng)
    check_gradients(lambda g, a: [g.sort(a, 1), g.sort(a, 0, descending=True)], [x], rng=rng)
    check_gradients(lambda g, a: g.top_k(a, 3, axis=1)[0], [x], rng=rng)
    check_gradients(lambda g, a: [g.cumsum(a, 1), g.cumsum(a, 0, exclusive=True, reverse=True)], [x], rng=rng)


@pytest.mark.parametrize("name", ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"])
def test_reduction_gradients(name):
    rng = np.random.default_rng(seed_of(name))
    x = rng.permutation(24).reshape(2, 3, 4) / 10 + 0.5  # distinct, positive
    for axes, keep in [(None, False), ([1], False), ([0, 2], True), ([-1], True)]:
        check_gradients(lambda g, a: getattr(g, name)(a, axes, keep), [x], rng=rng)


def test_mean_variance_gradient():
    rng = np.random.default_rng(6)
    check_gradients(lambda g, a: list(g.mean_variance(a, [0, 2])), [rng.normal(size=(3, 2, 4))], rng=rng)


def test_matmul_gradients():
    rng = np.random.default_rng(7)
    for sa, sb in [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2))]:
        for ta in (False, True):
            for tb in (False, True):
                a_shape = sa[:-2] + (sa[-1], sa[-2]) if ta and len(sa) > 1 else sa
                b_shape = sb[:-2] + (sb[-1], sb[-2]) if tb and len(sb) > 1 else sb
                check_gradients(lambda g, a, b: g.matmul(a, b, ta, tb),
                                [rng.normal(size=a_shape), rng.normal(size=b_shape)], rng=rng)


def test_gradients_through_variables_and_two_networks():
    rng = np.random.default_rng(8)
    g = ts.Graph()
    wg = g.variable(rng.normal(size=(3, 3)), name="generator")
    wd = g.variable(rng.normal(size=(3,)), name="discriminator")
    z = g.placeholder((-1, 3), ts.float64)
    fake = g.tanh(z @ wg)
    d_loss = g.reduce_mean(g.sigmoid(fake @ g.read_variable(wd)))
    grads = g.gradients(d_loss, [wd])
    assert list(grads) == [wd]
    both = g.gradients(d_loss, [wg, wd])
    zv = rng.normal(size=(5, 3))
    got_g, got_d = g.run({z: zv}, [both[wg], both[wd]])
    # Reference by finite differences on the variable values.
    def loss(wgv, wdv):
        f = np.tanh(zv @ wgv)
        return np.mean(1 / (1 + np.exp(-(f @ wdv))))
    wgv, wdv = g.variable_value(wg).numpy(), g.variable_value(wd).numpy()
    eps = 1e-6
    num_d = np.array([(loss(wgv, wdv + eps * e) - loss(wgv, wdv - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(got_d.numpy(), num_d, rtol=1e-6)
    num_g = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            e = np.zeros((3, 3))
            e[i, j] = eps
            num_g[i, j] = (loss(wgv + e, wdv) - loss(wgv - e, wdv)) / (2 * eps)
    np.testing.assert_allclose(got_g.numpy(), num_g, rtol=1e-6, atol=1e-10)


def test_second_derivatives():
    rng = np.random.default_rng(9)
    xv = rng.normal(size=(4,))
    g = ts.Graph()
    x = g.placeholder((-1,), ts.float64)
    for f, d2 in [(g.tanh, lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2)), (g.exp, np.exp),
                  (lambda t: t * t * t, lambda v: 6 * v), (g.sin, lambda v: -np.sin(v)),
                  (g.sigmoid, lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s) * (1 - 2 * s))]:
        y = f(x)
        first = g.gradients(y, [x])[x]
        second = g.gradients(first, [x])[x]
        np.testing.assert_allclose(g.run({x: xv}, [second])[0].numpy(), d2(xv), rtol=1e-10, atol=1e-12)
    # A Hessian-vector product through matmul.
    a = rng.normal(size=(4, 4))
    y = g.reduce_sum(g.square(g.matmul(g.constant(a), x)))
    hv = g.gradients(g.reduce_sum(g.gradients(y, [x])[x] * g.constant(xv)), [x])[x]
    np.testing.assert_allclose(g.run({x: xv}, [hv])[0].numpy(), 2 * a.T @ a @ xv, rtol=1e-10)


def test_gradient_errors_and_zero_gradients():
    g, other = ts.Graph(), ts.Graph()
    x = g.placeholder((3,), ts.float64, name="x")
    i = g.placeholder((3,), ts.int32, name="i")
    unrelated = g.placeholder((2,), ts.float64, name="unrelated")
    y = g.reduce_sum(g.exp(x))
    with pytest.raises(ts.DTypeError, match=r"y .* int64"):
        g.gradients(g.reduce_sum(i), [x])
    with pytest.raises(ts.DTypeError, match=r"x 'i' has dtype int32"):
        g.gradients(y, [i])
    with pytest.raises(ts.GraphError, match="another graph"):
        g.gradients(y, [other.placeholder((3,), ts.float64)])
    with pytest.raises(ts.GraphError, match="another graph"):
        other.gradients(y, [x])
    # y does not depend on `unrelated`: zeros (documented).
    zero = g.gradients(y, [unrelated])[unrelated]
    np.testing.assert_array_equal(g.run({unrelated: np.ones(2)}, [zero])[0].numpy(), [0, 0])
    # Only through a non-differentiable op: say so.
    am = g.cast(g.argmax(x, 0), ts.float64)
    with pytest.raises(ts.GraphError, match="without a gradient.*argmax"):
        g.gradients(am, [x])


def test_variable_gradients_by_finite_differences():
    rng = np.random.default_rng(seed_of("variables"))
    w0 = rng.normal(size=(3, 2))
    g = ts.Graph()
    w = g.variable(w0, name="w")
    x = g.constant(rng.normal(size=(4, 3)))
    loss = g.reduce_sum(g.tanh(x @ g.read_variable(w)) * g.constant(rng.normal(size=(4, 2))))
    analytic = g.run({}, [g.gradients(loss, [w])[w]])[0].numpy()

    def f(values):
        g.set_variable_value(w, values[0])
        return g.run({}, [loss])[0].item()

    np.testing.assert_allclose(analytic, central_differences(f, [w0], 0), rtol=1e-5, atol=1e-7)
    CHECKED_OPS.update(op.type for op in g.operations())


def test_log_gradient_compiles_to_one_reciprocal():
    """The seed's example: d log(x) is reciprocal(x) times the incoming ones,
    which fold away, and log itself is pruned."""
    g = ts.Graph()
    x = g.placeholder((-1, 3), name="x")
    dx = g.gradients(g.log(x), [x])[x]
    for shape in [(4, 3), (100_000, 3)]:  # the ones are folded, or recognized as a broadcast of 1
        exe = g.compile({x: ts.TensorType(shape, ts.float32)}, [dx])
        kernels = [line for line in exe.explain().splitlines() if "kernel " in line]
        assert len(kernels) == 1 and "reciprocal" in kernels[0] and "log" not in exe.explain()
    xv = np.array([[1.0, 2.0, 4.0]], np.float32)
    np.testing.assert_allclose(g.run({x: xv}, [dx])[0].numpy(), 1 / xv)
