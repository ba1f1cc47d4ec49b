"""ts.nn layers: their variables, their math against NumPy, batch norm's
running statistics, and a small network trained with them."""
import numpy as np
import pytest

import tensorstitch as ts


def value(g, v):
    return np.asarray(g.variable_value(v))


def test_dense_is_x_at_w_plus_b_with_seeded_glorot_weights():
    g = ts.Graph()
    layer = ts.nn.Dense(g, 5, 3, seed=4)
    assert [v.name for v in layer.variables] == ["dense/weight", "dense/bias"]
    w = value(g, layer.weight)
    assert np.abs(w).max() <= np.sqrt(6 / 8) and w.std() > 0.1
    again = ts.Graph()
    np.testing.assert_array_equal(value(again, ts.nn.Dense(again, 5, 3, seed=4).weight), w)
    x = g.placeholder((-1, 5))
    xv = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    (y,) = g.run({x: xv}, [layer(x)])
    np.testing.assert_allclose(np.asarray(y), xv @ w, rtol=1e-5, atol=1e-6)
    assert ts.nn.Dense(g, 5, 3).name == "dense_1"  # names stay unique
    assert ts.nn.Dense(g, 2, 2, bias=False).bias is None


def test_batch_norm_trains_on_batch_statistics_and_infers_on_running_ones():
    g = ts.Graph()
    bn = ts.nn.BatchNorm(g, 3, axes=[0, 2, 3], momentum=0.5)
    x = g.placeholder((-1, 3, 2, 2))
    xv = np.random.default_rng(1).normal(2.0, 3.0, size=(4, 3, 2, 2))
    train, infer = bn(x, training=True), bn(x, training=False)
    (y,) = g.run({x: xv.astype(np.float32)}, [train], bn.updates)
    mean, var = xv.mean((0, 2, 3), keepdims=True), xv.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(np.asarray(y), (xv - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(value(g, bn.running_mean), 0.5 * mean.ravel(), rtol=1e-5)
    np.testing.assert_allclose(value(g, bn.running_var), 0.5 + 0.5 * var.ravel(), rtol=1e-5)
    (z,) = g.run({x: xv.astype(np.float32)}, [infer])
    rm, rv = value(g, bn.running_mean).reshape(1, 3, 1, 1), value(g, bn.running_var).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(np.asarray(z), (xv - rm) / np.sqrt(rv + 1e-5), rtol=1e-4, atol=1e-4)
    trained = {v.name for v in g.variables()} - g._not_trainable
    assert trained == {"batch_norm/gamma", "batch_norm/beta"}


def test_dropout_embedding_and_recurrent_layers():
    g = ts.Graph()
    x = g.placeholder((-1, 10))
    drop = ts.nn.Dropout(g, 0.5, seed=3)
    xv = np.ones((50, 10), np.float32)
    on, off = g.run({x: xv}, [drop(x), drop(x, training=False)])
    assert set(np.unique(np.asarray(on))) == {0.0, 2.0} and np.array_equal(np.asarray(off), xv)
    emb = ts.nn.Embedding(g, 6, 4, seed=1)
    idx = g.placeholder((3,), ts.int32)
    (rows,) = g.run({idx: np.array([5, 0, 5], np.int32)}, [emb(idx)])
    table = value(g, emb.weight)
    np.testing.assert_array_equal(np.asarray(rows), table[[5, 0, 5]])
    seq = g.placeholder((4, 2, 3))
    lstm, gru = ts.nn.LSTM(g, 3, 5, seed=2), ts.nn.GRU(g, 3, 5, seed=2)
    outs, (h, c) = lstm(seq)
    gouts, gh = gru(seq)
    sv = np.random.default_rng(2).normal(size=(4, 2, 3)).astype(np.float32)
    got = [np.asarray(r) for r in g.run({seq: sv}, [outs, h, gouts, gh])]
    assert got[0].shape == (4, 2, 5) and got[2].shape == (4, 2, 5)
    np.testing.assert_array_equal(got[0][-1], got[1])
    np.testing.assert_array_equal(got[2][-1], got[3])
    assert [v.name for v in gru.variables] == ["gru/w_input", "gru/w_recurrent", "gru/bias", "gru/recurrent_bias"]


def test_a_small_network_learns_with_layers_and_adamw():
    rng = np.random.default_rng(5)
    xv = rng.normal(size=(256, 2)).astype(np.float32)
    tv = (np.sin(xv[:, :1] * 2) + xv[:, 1:] ** 2).astype(np.float32)
    g = ts.Graph()
    x, t = g.placeholder((-1, 2)), g.placeholder((-1, 1))
    hidden, bn, out = ts.nn.Dense(g, 2, 32, seed=1), ts.nn.BatchNorm(g, 32, axes=[0]), ts.nn.Dense(g, 32, 1, seed=2)
    y = out(g.tanh(bn(hidden(x))))
    loss = g.reduce_mean(g.square(y - t))
    step = ts.optim.AdamW(0.02, weight_decay=1e-4).minimize(g, loss) + bn.updates
    first = float(np.asarray(g.run({x: xv, t: tv}, [loss])[0]))
    for _ in range(300):
        g.run({x: xv, t: tv}, [], step)
    last = float(np.asarray(g.run({x: xv, t: tv}, [loss])[0]))
    assert last < 0.1 * first, (first, last)


def test_bad_layer_arguments_raise():
    g = ts.Graph()
    with pytest.raises(ts.ShapeError, match="Dense: in_features must be a positive integer"):
        ts.nn.Dense(g, 0, 3)
    with pytest.raises(ts.GraphError, match="rate"):
        ts.nn.Dropout(g, 1.5)
    with pytest.raises(ts.GraphError, match="momentum"):
        ts.nn.BatchNorm(g, 3, [0], momentum=1.0)
    with pytest.raises(ts.ShapeError, match="hidden_size"):
        ts.nn.LSTM(g, 3, -2)


def test_conv_layers_shapes_and_math():
    g = ts.Graph()
    conv = ts.nn.Conv2d(g, 3, 8, 3, stride=2, seed=0)
    up = ts.nn.ConvTranspose2d(g, 8, 3, 3, stride=2, seed=1)
    x = g.placeholder((2, 3, 8, 8))
    y = conv(x)
    z = up(y)
    assert y.shape == (2, 8, 4, 4) and z.shape == (2, 3, 8, 8)
    xv = np.random.default_rng(6).normal(size=(2, 3, 8, 8)).astype(np.float32)
    yv, = g.run({x: xv}, [y])
    bare = g.conv2d(x, conv.weight, ts.Conv2dDescriptor(2, padding="SAME"))
    (want,) = g.run({x: xv}, [bare])
    np.testing.assert_allclose(np.asarray(yv), np.asarray(want), rtol=1e-6)  # the bias starts at zero
    assert [v.name for v in conv.variables] == ["conv2d/weight", "conv2d/bias"]
