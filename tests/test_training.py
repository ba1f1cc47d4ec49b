"""Training end to end: optimizer ops, ts.optim helpers, variables updated
only by whole successful runs, save/load in safetensors."""
import numpy as np
import pytest

import tensorstitch as ts


def log_softmax(g, z):
    shifted = z - g.reduce_max(z, -1, keepdims=True)
    return shifted - g.log(g.reduce_sum(g.exp(shifted), -1, keepdims=True))


def test_linear_regression_with_sgd_recovers_weights():
    rng = np.random.default_rng(0)
    w_true, b_true = np.array([[2.0], [-3.0], [0.5]], np.float32), 1.25
    xs = rng.normal(size=(256, 3)).astype(np.float32)
    ys = xs @ w_true + b_true + rng.normal(0, 0.01, (256, 1)).astype(np.float32)
    g = ts.Graph()
    x = g.placeholder((-1, 3), name="x")
    y = g.placeholder((-1, 1), name="y")
    w = g.variable(np.zeros((3, 1), np.float32), name="w")
    b = g.variable(np.zeros((1,), np.float32), name="b")
    loss = g.reduce_mean(g.square(x @ w + b - y))
    step = ts.optim.SGD(0.1).minimize(g, loss, [w, b])
    for _ in range(300):
        g.run({x: xs, y: ys}, [loss], step)
    np.testing.assert_allclose(g.variable_value(w).numpy(), w_true, atol=1e-2)
    assert abs(g.variable_value(b).item() - b_true) < 1e-2


def test_two_layer_mlp_with_adam_learns_circles():
    rng = np.random.default_rng(1)
    n = 512
    pts = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    labels = (np.sum(pts ** 2, 1) < 0.45).astype(np.int32)  # a disc inside a square: not linearly separable
    g = ts.Graph()
    x = g.placeholder((-1, 2), name="x")
    t = g.placeholder((-1,), ts.int32, name="t")
    w1 = g.variable(rng.normal(0, 1.0, (2, 32)).astype(np.float32), name="w1")
    b1 = g.variable(np.zeros(32, np.float32), name="b1")
    w2 = g.variable(rng.normal(0, 0.3, (32, 2)).astype(np.float32), name="w2")
    b2 = g.variable(np.zeros(2, np.float32), name="b2")
    logits = g.relu(x @ w1 + b1) @ w2 + b2
    loss = -g.reduce_mean(g.reduce_sum(g.one_hot(t, 2) * log_softmax(g, logits), -1))
    accuracy = g.reduce_mean(g.cast(g.equal(g.cast(g.argmax(logits, 1), ts.int32), t), ts.float32))
    train = ts.optim.Adam(0.05).minimize(g, loss)
    first = g.run({x: pts, t: labels}, [loss])[0].item()
    for _ in range(250):
        g.run({x: pts, t: labels}, [loss], train)
    last, acc = (a.item() for a in g.run({x: pts, t: labels}, [loss, accuracy]))
    assert last < first / 4
    assert acc >= 0.95, f"accuracy {acc:.3f} after 250 Adam steps"
    assert g.variable_value([v for v in g.variables() if v.name == "optimizer/adam/step"][0]).item() == 250


def test_adam_op_matches_reference_formula():
    rng = np.random.default_rng(2)
    value, grad, m, v = (rng.normal(size=4) for _ in range(4))
    v = np.abs(v)
    g = ts.Graph()
    new = g.adam(0.01, 0.9, 0.999, 1e-8, g.constant(value), g.constant(grad), g.constant(m), g.constant(v), 3.0)
    got = [a.numpy() for a in g.run(targets=list(new))]
    m2 = 0.9 * m + 0.1 * grad
    v2 = 0.999 * v + 0.001 * grad ** 2
    lr = 0.01 * np.sqrt(1 - 0.999 ** 3) / (1 - 0.9 ** 3)
    np.testing.assert_allclose(got[0], value - lr * m2 / (np.sqrt(v2) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(got[1], m2, rtol=1e-12)
    np.testing.assert_allclose(got[2], v2, rtol=1e-12)
    sgd = g.run(targets=[g.sgd(0.5, g.constant(value), g.constant(grad))])[0].numpy()
    np.testing.assert_allclose(sgd, value - 0.5 * grad)


def test_training_step_is_all_or_nothing():
    g = ts.Graph()
    w = g.variable(np.ones(3, np.float32), name="w")
    idx = g.placeholder((1,), ts.int32)
    loss = g.reduce_sum(g.gather(w, idx) * 2.0)
    step = ts.optim.SGD(1.0).minimize(g, loss, [w])
    with pytest.raises(ts.ShapeError):
        g.run({idx: np.array([5], np.int32)}, [loss], step)
    np.testing.assert_array_equal(g.variable_value(w).numpy(), [1, 1, 1])
    g.run({idx: np.array([1], np.int32)}, [loss], step)
    np.testing.assert_array_equal(g.variable_value(w).numpy(), [1, -1, 1])


def test_save_and_load_variables(tmp_path):
    g = ts.Graph()
    a = g.variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="layer/w")
    b = g.variable(np.array([1, 2], np.int64), name="layer/steps")
    c = g.variable(ts.asarray(np.array([1.5, -2.25], np.float32), dtype=ts.bfloat16), name="half")
    path = tmp_path / "model.safetensors"
    ts.save_variables(g, path)
    from safetensors.numpy import load_file
    assert sorted(load_file(str(path))) == ["half", "layer/steps", "layer/w"]

    g.set_variable_value(a, np.zeros((2, 3), np.float32))
    g.set_variable_value(c, ts.asarray(np.zeros(2, np.float32), dtype=ts.bfloat16))
    ts.load_variables(g, path)
    np.testing.assert_array_equal(g.variable_value(a).numpy(), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(g.variable_value(b).numpy(), [1, 2])
    np.testing.assert_array_equal(g.variable_value(c).numpy(), [1.5, -2.25])

    other = ts.Graph()
    other.variable(np.zeros((3, 2), np.float32), name="layer/w")
    with pytest.raises(ts.GraphError, match="missing|unexpected"):
        ts.load_variables(other, path)
    with pytest.raises(ts.ShapeError, match="layer/w"):
        ts.load_variables(other, path, strict=False)
