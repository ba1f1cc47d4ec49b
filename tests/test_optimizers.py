"""SGD with momentum (and Nesterov), Adam, AdamW and global-norm clipping
against NumPy references of their update rules (PyTorch's forms), a few
steps on a least-squares loss in float64."""
import numpy as np
import pytest

import tensorstitch as ts

RNG = np.random.default_rng(21)
A = RNG.normal(size=(6, 3))
B = RNG.normal(size=(6,))
W0 = RNG.normal(size=(3,))


def grad_of(w):
    """d/dw of sum((A w - B)^2)."""
    return 2 * A.T @ (A @ w - B)


def run_steps(optimizer, steps=5, variables=None):
    g = ts.Graph()
    w = g.variable(W0.copy(), name="w")
    loss = g.reduce_sum(g.square(g.matmul(g.constant(A), w) - g.constant(B)))
    ops = optimizer.minimize(g, loss, variables)
    for _ in range(steps):
        g.run({}, [], ops)
    return np.asarray(g.variable_value(w)), g


def sgd_reference(lr, momentum, nesterov, clip=None, steps=5):
    w, b = W0.copy(), np.zeros(3)
    for _ in range(steps):
        gr = clip_reference([grad_of(w)], clip)[0] if clip else grad_of(w)
        if momentum:
            b = momentum * b + gr
            gr = gr + momentum * b if nesterov else b
        w = w - lr * gr
    return w


def adam_reference(lr, b1, b2, eps, decay=0.0, clip=None, steps=5):
    w, m, v = W0.copy(), np.zeros(3), np.zeros(3)
    for t in range(1, steps + 1):
        gr = clip_reference([grad_of(w)], clip)[0] if clip else grad_of(w)
        w = w * (1 - lr * decay)
        m = b1 * m + (1 - b1) * gr
        v = b2 * v + (1 - b2) * gr * gr
        w = w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    return w


def clip_reference(grads, max_norm):
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
    return [g * min(1.0, max_norm / (norm + 1e-6)) for g in grads]


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_with_momentum_matches_reference(momentum, nesterov):
    got, g = run_steps(ts.optim.SGD(0.01, momentum=momentum, nesterov=nesterov))
    np.testing.assert_allclose(got, sgd_reference(0.01, momentum, nesterov), rtol=1e-12)
    has_buffer = any(v.name == "optimizer/sgd/w/momentum" for v in g.variables())
    assert has_buffer == bool(momentum)


def test_adam_and_adamw_match_reference():
    got, _ = run_steps(ts.optim.Adam(0.05, 0.8, 0.99, 1e-8))
    np.testing.assert_allclose(got, adam_reference(0.05, 0.8, 0.99, 1e-8), rtol=1e-10)
    got, g = run_steps(ts.optim.AdamW(0.05, 0.8, 0.99, 1e-8, weight_decay=0.3))
    np.testing.assert_allclose(got, adam_reference(0.05, 0.8, 0.99, 1e-8, decay=0.3), rtol=1e-10)
    assert {v.name for v in g.variables()} >= {"optimizer/adamw/step", "optimizer/adamw/w/m", "optimizer/adamw/w/v"}


def test_global_norm_clipping_matches_reference():
    got, _ = run_steps(ts.optim.SGD(0.01, momentum=0.5, clip_norm=0.5))
    np.testing.assert_allclose(got, sgd_reference(0.01, 0.5, False, clip=0.5), rtol=1e-12)
    got, _ = run_steps(ts.optim.AdamW(0.05, clip_norm=1.0))
    np.testing.assert_allclose(got, adam_reference(0.05, 0.9, 0.999, 1e-8, decay=0.01, clip=1.0), rtol=1e-10)
    g = ts.Graph()
    a, b = g.placeholder((2,), ts.float64), g.placeholder((3,), ts.float64)
    (ca, cb), norm = ts.optim.clip_by_global_norm(g, [a, b], 1.0)
    av, bv = np.array([3.0, 0.0]), np.array([0.0, 4.0, 0.0])
    got = g.run({a: av, b: bv}, [ca, cb, norm])
    np.testing.assert_allclose(np.asarray(got[2]), 5.0)
    np.testing.assert_allclose(np.concatenate([np.asarray(got[0]), np.asarray(got[1])]),
                               np.concatenate(clip_reference([av, bv], 1.0)), rtol=1e-12)
    small = g.run({a: av / 10, b: bv / 10}, [ca])[0]  # under the limit: unchanged
    np.testing.assert_allclose(np.asarray(small), av / 10, rtol=1e-6)


def test_bad_optimizer_settings_raise():
    with pytest.raises(ts.GraphError, match="momentum"):
        ts.optim.SGD(0.1, momentum=-1)
    with pytest.raises(ts.GraphError, match="nesterov"):
        ts.optim.SGD(0.1, nesterov=True)
    with pytest.raises(ts.GraphError, match="weight_decay"):
        ts.optim.AdamW(weight_decay=-0.1)
    g = ts.Graph()
    with pytest.raises(ts.GraphError, match="max_norm"):
        ts.optim.clip_by_global_norm(g, [g.placeholder((2,))], 0.0)
