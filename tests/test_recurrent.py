"""lstm_cell / lstm and gru_cell / gru against NumPy loops in float64 (gate
orders i, f, g, o and r, z, n), gradients through the whole sequence by
finite differences, a zero-sized batch, and bad input."""
import numpy as np
import pytest

import tensorstitch as ts
from gradcheck import check_gradients
from helpers import run_graph


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def lstm_reference(x, h, c, wi, wr, b):
    outs = []
    for xt in x:
        i, f, g, o = np.split(xt @ wi + h @ wr + b, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outs.append(h)
    return np.stack(outs), h, c


def gru_reference(x, h, wi, wr, b, rb):
    outs = []
    for xt in x:
        a, q = xt @ wi + b, h @ wr + rb
        r, z = sigmoid(a[:, :h.shape[1]] + q[:, :h.shape[1]]), sigmoid(a[:, h.shape[1]:2 * h.shape[1]] + q[:, h.shape[1]:2 * h.shape[1]])
        n = np.tanh(a[:, 2 * h.shape[1]:] + r * q[:, 2 * h.shape[1]:])
        h = (1 - z) * n + z * h
        outs.append(h)
    return np.stack(outs), h


def weights(rng, inputs, hidden, gates):
    return (rng.normal(0, 0.5, (inputs, gates * hidden)), rng.normal(0, 0.5, (hidden, gates * hidden)),
            rng.normal(0, 0.5, gates * hidden))


@pytest.mark.parametrize("batch", [3, 0])
def test_lstm_matches_numpy_loop(batch):
    rng = np.random.default_rng(41)
    T, I, H = 5, 4, 3
    x, h0, c0 = rng.normal(size=(T, batch, I)), rng.normal(size=(batch, H)), rng.normal(size=(batch, H))
    wi, wr, b = weights(rng, I, H, 4)
    want = lstm_reference(x, h0, c0, wi, wr, b)

    def build(g, *t):
        outs, (h, c) = g.lstm(*t)
        return [outs, h, c]

    got = run_graph(build, [x, h0, c0, wi, wr, b])
    for gk, wk in zip(got, want):
        np.testing.assert_allclose(gk, wk, rtol=1e-12, atol=1e-12)
    h1, c1 = run_graph(lambda g, *t: list(g.lstm_cell(*t)), [x[0], h0, c0, wi, wr, b])
    _, wh, wc = lstm_reference(x[:1], h0, c0, wi, wr, b)
    np.testing.assert_allclose(h1, wh, rtol=1e-12)
    np.testing.assert_allclose(c1, wc, rtol=1e-12)
    # Absent initial states are zeros.
    outs = run_graph(lambda g, a, p, q, r: g.lstm(a, None, None, p, q, r)[0], [x, wi, wr, b])
    np.testing.assert_allclose(outs, lstm_reference(x, np.zeros((batch, H)), np.zeros((batch, H)), wi, wr, b)[0],
                               rtol=1e-12, atol=1e-12)


def test_gru_matches_numpy_loop():
    rng = np.random.default_rng(42)
    T, B, I, H = 4, 2, 3, 5
    x, h0 = rng.normal(size=(T, B, I)), rng.normal(size=(B, H))
    wi, wr, b = weights(rng, I, H, 3)
    rb = rng.normal(0, 0.5, 3 * H)
    want = gru_reference(x, h0, wi, wr, b, rb)
    got = run_graph(lambda g, *t: list(g.gru(*t)), [x, h0, wi, wr, b, rb])
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    h1 = run_graph(lambda g, *t: g.gru_cell(*t), [x[0], h0, wi, wr, b, rb])
    np.testing.assert_allclose(h1, gru_reference(x[:1], h0, wi, wr, b, rb)[1], rtol=1e-12)


def test_gradients_flow_through_the_sequence():
    rng = np.random.default_rng(43)
    T, B, I, H = 4, 2, 3, 2
    x, h0, c0 = rng.normal(size=(T, B, I)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    wi, wr, b = weights(rng, I, H, 4)
    check_gradients(lambda g, *t: [g.lstm(*t)[0]], [x, h0, c0, wi, wr, b], rng=rng, dynamic_dims=False)
    gwi, gwr, gb = weights(rng, I, H, 3)
    check_gradients(lambda g, *t: [g.gru(*t)[0]], [x, h0, gwi, gwr, gb, rng.normal(size=3 * H)], rng=rng,
                    dynamic_dims=False)


def test_bad_recurrent_input_raises():
    g = ts.Graph()
    x = g.placeholder((5, 2, 4))
    wi, b = g.placeholder((4, 12)), g.placeholder((12,))
    with pytest.raises(ts.ShapeError, match=r"lstm 'r'.*recurrent weights float32\(3, 9\) must be \(hidden, 4 \* hidden\)"):
        g.lstm(x, None, None, wi, g.placeholder((3, 9)), b, name="r")
    with pytest.raises(ts.ShapeError, match="known length"):
        g.lstm(g.placeholder((-1, 2, 4)), None, None, wi, g.placeholder((3, 12)), b)
    with pytest.raises(ts.ShapeError, match="matmul"):
        g.lstm(x, None, None, g.placeholder((5, 12)), g.placeholder((3, 12)), b)
