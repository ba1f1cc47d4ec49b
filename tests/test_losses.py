"""Normalization, losses and activations built from primitives (normalize,
logsumexp, softmax/sigmoid cross-entropy, leaky_relu, softplus, silu,
stop_gradient): float64 references written here, gradients by finite
differences, fusion into one kernel per row, and bad input."""
import numpy as np
import pytest
import scipy.special as sp

import tensorstitch as ts
from gradcheck import check_gradients
from helpers import FLOATS, as_input, assert_close, random_shape, run_graph

REDUCE = {"sum": np.sum, "mean": np.mean, "none": lambda v: v}


def kernels(exe):
    return sum(1 for kind, _ in exe._exe.steps() if kind == "kernel")


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_logsumexp_matches_scipy(dt):
    rng = np.random.default_rng(11)
    for _ in range(4):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)))
        axes = sorted({int(a) for a in rng.integers(0, len(shape), 2)})
        feed, ex = as_input(rng.normal(0, 3, shape), dt)
        got = run_graph(lambda g, x: [g.logsumexp(x, axes), g.logsumexp(x, axes, keepdims=True), g.logsumexp(x)],
                        [feed], rng)
        with np.errstate(divide="ignore"):  # empty sums: log(0) = -inf
            want = [np.log(np.exp(ex).sum(tuple(axes))), np.log(np.exp(ex).sum(tuple(axes), keepdims=True)),
                    np.log(np.exp(ex).sum())]
        for got_k, want_k in zip(got, want):
            assert_close(got_k, want_k, dt)


def test_logsumexp_is_stable_and_handles_infinities():
    x = np.array([[1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 0.0], [np.nan, 0.0]], np.float32)
    got = run_graph(lambda g, a: g.logsumexp(a, 1), [x])
    np.testing.assert_allclose(got[0], 1000 + np.log(2), rtol=1e-6)
    assert got[1] == -np.inf and got[2] == np.inf and np.isnan(got[3])


def test_logsumexp_gradient_is_softmax_and_max_is_held_out():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3, 5))
    x[1, 2] = x[1, 4]  # a tie at the maximum: the gradient must not care
    check_gradients(lambda g, a: [g.logsumexp(a, 1), g.logsumexp(a)], [x], rng=rng)
    g = ts.Graph()
    a = g.placeholder((3, 5), ts.float64)
    (grad,) = g.run({a: x}, [g.gradients(g.logsumexp(a, 1), [a])[a]])
    np.testing.assert_allclose(np.asarray(grad), sp.softmax(x, 1), rtol=1e-12)


def test_stop_gradient_passes_values_and_blocks_gradients():
    g = ts.Graph()
    a = g.placeholder((4,), ts.float64)
    y = g.stop_gradient(a) * a
    (val, grad) = g.run({a: np.arange(4.0)}, [y, g.gradients(y, [a])[a]])
    np.testing.assert_array_equal(np.asarray(val), np.arange(4.0) ** 2)
    np.testing.assert_array_equal(np.asarray(grad), np.arange(4.0))  # d(s * a)/da with s held: s


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
@pytest.mark.parametrize("dt", [ts.float32, ts.float64], ids=lambda d: d.name)
def test_softmax_cross_entropy_matches_reference(reduction, dt):
    rng = np.random.default_rng(13)
    for _ in range(3):
        shape = random_shape(rng, rank=int(rng.integers(1, 4)), dims=(0, 1, 3, 5))
        axis = int(rng.integers(-len(shape), len(shape)))
        logits, ex = as_input(rng.normal(0, 4, shape), dt)
        labels, lx = as_input(sp.softmax(rng.normal(size=shape), axis=axis) if all(shape) else np.zeros(shape), dt)
        got = run_graph(lambda g, a, b: g.softmax_cross_entropy(a, b, axis, reduction), [logits, labels], rng)
        want = REDUCE[reduction](-(lx * sp.log_softmax(ex, axis=axis)).sum(axis=axis))
        with np.errstate(invalid="ignore"):
            assert_close(got, np.asarray(want), dt)


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_sigmoid_cross_entropy_matches_reference_and_is_stable(reduction):
    rng = np.random.default_rng(14)
    x = np.concatenate([rng.normal(0, 3, 10), [80.0, -80.0, 0.0]])
    z = np.concatenate([rng.random(10), [1.0, 0.0, 0.5]])
    got = run_graph(lambda g, a, b: g.sigmoid_cross_entropy(a, b, reduction), [x, z])
    p = sp.expit(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = -(z * np.log(p) + (1 - z) * np.log1p(-p))
    want[10:12] = [0.0, 0.0]  # the limits, where the naive formula loses everything
    want[12] = np.log(2)
    np.testing.assert_allclose(got, REDUCE[reduction](want), rtol=1e-10, atol=1e-30)


def test_loss_gradients():
    rng = np.random.default_rng(15)
    logits, labels = rng.normal(size=(4, 6)), sp.softmax(rng.normal(size=(4, 6)), 1)
    for reduction in ("sum", "mean", "none"):
        check_gradients(lambda g, a, b: g.softmax_cross_entropy(a, b, 1, reduction), [logits, labels], rng=rng)
        check_gradients(lambda g, a, b: g.softmax_cross_entropy(a, b, 0, reduction), [logits, labels], rng=rng)
        check_gradients(lambda g, a, b: g.sigmoid_cross_entropy(a, b, reduction), [logits, rng.random((4, 6))], rng=rng)


def test_softmax_cross_entropy_is_one_kernel_per_row():
    g = ts.Graph()
    x, t = g.placeholder((64, 100)), g.placeholder((64, 100))
    exe = g.compile({x: ts.TensorType((64, 100), ts.float32), t: ts.TensorType((64, 100), ts.float32)},
                    [g.softmax_cross_entropy(x, t, reduction="none")])
    assert kernels(exe) == 1


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_normalize_matches_reference(dt):
    rng = np.random.default_rng(16)
    x, ex = as_input(rng.normal(2, 3, (4, 3, 5)), dt)
    gamma, eg = as_input(rng.normal(size=(3, 1)), dt)
    beta, eb = as_input(rng.normal(size=(3, 1)), dt)

    def build(g, a, ga, be):
        mean, var = g.mean_variance(a, [0, 2], keepdims=True)  # batch norm over (N, W) per channel
        return [g.normalize(a, mean, var, ga, be, epsilon=1e-3), g.normalize(a, mean, var)]

    got = run_graph(build, [x, gamma, beta])
    mean, var = ex.mean((0, 2), keepdims=True), ex.var((0, 2), keepdims=True)
    assert_close(got[0], (ex - mean) / np.sqrt(var + 1e-3) * eg + eb, dt)
    assert_close(got[1], (ex - mean) / np.sqrt(var + 1e-5), dt)


def test_layer_norm_from_normalize_is_one_kernel_and_differentiable():
    rng = np.random.default_rng(17)
    x, gamma, beta = rng.normal(size=(3, 8)), rng.normal(size=(8,)), rng.normal(size=(8,))

    def build(g, a, ga, be):
        mean, var = g.mean_variance(a, [1], keepdims=True)
        return g.normalize(a, mean, var, ga, be)

    check_gradients(build, [x, gamma, beta], rng=rng)
    g = ts.Graph()
    ph = [g.placeholder(v.shape, ts.float32) for v in (x, gamma, beta)]
    exe = g.compile({p: ts.TensorType(p.shape, ts.float32) for p in ph}, [build(g, *ph)])
    assert kernels(exe) == 1


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_activations_match_references(dt):
    rng = np.random.default_rng(18)
    x, ex = as_input(np.concatenate([rng.normal(0, 3, 20), [50.0, -50.0, 0.0]]), dt)
    got = run_graph(lambda g, a: [g.leaky_relu(a), g.leaky_relu(a, 0.2), g.softplus(a), g.silu(a)], [x])
    assert_close(got[0], np.where(ex > 0, ex, 0.01 * ex), dt)
    assert_close(got[1], np.where(ex > 0, ex, 0.2 * ex), dt)
    assert_close(got[2], np.logaddexp(0, ex), dt)
    assert_close(got[3], ex * sp.expit(ex), dt)


def test_activation_gradients():
    rng = np.random.default_rng(19)
    x = rng.normal(size=(3, 4))
    x = np.where(np.abs(x) < 0.05, x + 0.1, x)  # away from leaky_relu's kink
    check_gradients(lambda g, a: [g.leaky_relu(a, 0.1), g.softplus(a), g.silu(a)], [x], rng=rng)


def test_bad_input_names_the_op():
    g = ts.Graph()
    x, t = g.placeholder((4, 10)), g.placeholder((4, 9))
    with pytest.raises(ts.ShapeError, match=r"softmax_cross_entropy 'loss'.*labels float32\(4, 9\).*float32\(4, 10\)"):
        g.softmax_cross_entropy(x, t, name="loss")
    with pytest.raises(ts.GraphError, match="reduction 'avg'"):
        g.sigmoid_cross_entropy(x, x, reduction="avg")
    with pytest.raises(ts.DTypeError, match="labels"):
        g.sigmoid_cross_entropy(x, g.placeholder((4, 10), ts.int32))
    with pytest.raises(ts.DTypeError, match="leaky_relu.*int32"):
        g.leaky_relu(g.placeholder((2,), ts.int32))
    with pytest.raises(ts.DTypeError, match="normalize.*int32"):
        g.normalize(g.placeholder((2,), ts.int32), 0, 1)
