"""Stitching: known patterns compile to the expected number of kernels, a
tensor used by several regions is computed once. Random graphs, fused and
unfused against NumPy, are in test_random_graphs.py."""
import os
import re

import numpy as np
import pytest
import scipy.special as sp

import tensorstitch as ts


def kernels(exe):
    return int(re.search(r"(\d+) kernels?", exe.explain()).group(1))


def compile_for(g, feeds, targets):
    return g.compile({p: ts.TensorType(s, ts.float32) for p, s in feeds.items()}, targets)


def test_gelu_from_primitives_is_one_kernel(fusion):
    g = ts.Graph()
    x = g.placeholder((-1, 3))
    y = 0.5 * x * (1 + g.erf(x * 0.5 ** 0.5))
    exe = compile_for(g, {x: (8, 3)}, [y])
    assert kernels(exe) == (1 if fusion == "fused" else 5)
    if fusion == "fused":
        assert "fused" in exe.explain() and "erf" in exe.explain()


def test_matmul_bias_relu_is_one_kernel(fusion):
    g = ts.Graph()
    x = g.placeholder((-1, 8))
    w = g.variable(np.ones((8, 4), np.float32))
    b = g.variable(np.arange(4, dtype=np.float32))
    y = g.relu(x @ w + b)
    exe = compile_for(g, {x: (5, 8)}, [y])
    assert kernels(exe) == (1 if fusion == "fused" else 3)
    xv = np.linspace(-1, 1, 40, dtype=np.float32).reshape(5, 8)
    np.testing.assert_allclose(exe.run([xv])[0].numpy(), np.maximum(xv @ np.ones((8, 4)) + np.arange(4), 0),
                               rtol=1e-6, atol=1e-6)


def test_softmax_is_one_kernel_and_loss_reductions_fuse(fusion):
    g = ts.Graph()
    x = g.placeholder((-1, 16))
    t = g.placeholder((-1, 16))
    assert kernels(compile_for(g, {x: (4, 16)}, [g.softmax(x)])) == 1
    loss = g.reduce_mean(g.square(x - t))
    exe = compile_for(g, {x: (4, 16), t: (4, 16)}, [loss])
    assert kernels(exe) == (1 if fusion == "fused" else 3)
    xv, tv = np.random.default_rng(0).normal(size=(2, 4, 16)).astype(np.float32)
    np.testing.assert_allclose(exe.run([xv, tv])[0].item(), np.mean((xv - tv) ** 2), rtol=1e-5)


def test_shared_tensor_is_materialized_once(fusion):
    g = ts.Graph()
    x = g.placeholder((-1,))
    y = g.exp(x)
    a, b = y + 1.0, y * 2.0
    exe = compile_for(g, {x: (10,)}, [a, b])
    text = exe.explain()
    assert sum("exp" in line for line in text.splitlines()[1:]) == 1
    # Fused, exp joins one user's kernel and is stored there as a second output.
    assert kernels(exe) == (3 if os.environ.get("TENSORSTITCH_FUSION") == "0" else 2)
    xv = np.linspace(-1, 1, 10).astype(np.float32)
    got = exe.run([xv])
    np.testing.assert_allclose(np.asarray(got[0]), np.exp(xv) + 1, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(got[1]), np.exp(xv) * 2, rtol=1e-6)


def test_regions_with_several_outputs(fusion):
    """A value that is a target, or that a later kernel reads too, is stored
    by the kernel that computes it rather than computed by a kernel of its own."""
    rng = np.random.default_rng(12)
    xv = rng.normal(size=(33, 17)).astype(np.float32)
    g = ts.Graph()
    x = g.placeholder((33, 17), ts.float32)
    h = g.tanh(x * 1.5)            # a target and an input of z
    z = g.sigmoid(h) * h + 1.0
    s = g.reduce_sum(h, axes=[0])  # a later kernel reads h too
    exe = compile_for(g, {x: (33, 17)}, [h, z, s])
    hv = np.tanh(xv.astype(np.float64) * 1.5)
    got = [np.asarray(o) for o in exe.run([xv])]
    np.testing.assert_allclose(got[0], hv, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(got[1], sp.expit(hv) * hv + 1, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(got[2], hv.sum(0), rtol=1e-5, atol=1e-5)
    if os.environ.get("TENSORSTITCH_FUSION") != "0":
        assert kernels(exe) == 2, exe.explain()


def test_reduction_prologue_with_many_rows_and_one_row(fusion):
    rng = np.random.default_rng(1)
    for shape, axes in [((300, 2000), [1]), ((5, 3000), [0, 1]), ((7, 0), [1]), ((3, 4, 5), None)]:
        g = ts.Graph()
        x = g.placeholder((-1,) * len(shape))
        outs = [g.reduce_sum(g.square(x), axes), g.reduce_max(g.abs(x) * 2.0, axes), g.reduce_mean(x + 1.0, axes)]
        xv = rng.normal(size=shape).astype(np.float32)
        got = g.run({x: xv}, outs)
        ax = None if axes is None else tuple(axes)
        with np.errstate(all="ignore"):
            want = [np.sum(xv.astype(np.float64) ** 2, ax),
                    np.max(np.abs(xv) * 2.0, ax, initial=-np.inf), np.mean(xv.astype(np.float64) + 1, ax)]
        for gv, wv in zip(got, want):
            np.testing.assert_allclose(gv.numpy(), wv, rtol=2e-5, atol=1e-5)


def test_matmul_epilogue_large_and_batched(fusion):
    rng = np.random.default_rng(2)
    g = ts.Graph()
    a = g.placeholder((-1, -1, -1))
    b = g.placeholder((-1, -1))
    bias = g.placeholder((-1,))
    y = g.gelu(a @ b + bias)
    av, bv = rng.normal(size=(2, 300, 64)).astype(np.float32), rng.normal(size=(64, 700)).astype(np.float32)
    cv = rng.normal(size=700).astype(np.float32)
    got = g.run({a: av, b: bv, bias: cv}, [y])[0].numpy()
    z = av.astype(np.float64) @ bv + cv
    np.testing.assert_allclose(got, 0.5 * z * (1 + sp.erf(z / np.sqrt(2))), rtol=1e-4, atol=1e-4)


def test_common_subexpressions_are_computed_once(fusion):
    g = ts.Graph()
    x = g.placeholder((-1, 4))
    a = g.exp(x * 2.0) + g.reduce_sum(g.exp(x * 2.0), 1, keepdims=True)
    b = g.tanh(x) * g.tanh(x)
    exe = compile_for(g, {x: (3, 4)}, [a, b])
    lines = exe.explain().splitlines()[1:]
    assert sum("exp" in line for line in lines) == 1
    assert sum("tanh" in line for line in lines) == 1
    xv = np.random.default_rng(3).normal(size=(3, 4)).astype(np.float32)
    got = exe.run([xv])
    e = np.exp(xv * 2)
    np.testing.assert_allclose(got[0].numpy(), e + e.sum(1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(got[1].numpy(), np.tanh(xv) ** 2, rtol=1e-5)


def row_patterns(g, x, labels):
    """Softmax, log-softmax, layer norm and cross-entropy, each from primitives."""
    m = g.reduce_max(x, -1, keepdims=True)
    e = g.exp(x - m)
    s = g.reduce_sum(e, -1, keepdims=True)
    mean = g.reduce_mean(x, -1, keepdims=True)
    d = x - mean
    gamma = g.constant(np.linspace(0.5, 1.5, 64, dtype=np.float32))
    return {"softmax": e / s, "log_softmax": (x - m) - g.log(s),
            "layer_norm": d / g.square_root(g.reduce_mean(d * d, -1, keepdims=True) + 1e-5) * gamma + 0.1,
            "cross_entropy": -g.reduce_sum(labels * ((x - m) - g.log(s)), -1)}


def test_row_patterns_from_primitives_are_one_kernel_each(fusion):
    g = ts.Graph()
    x, labels = g.placeholder((-1, 64)), g.placeholder((-1, 64))
    rng = np.random.default_rng(8)
    xv = rng.normal(size=(33, 64)).astype(np.float32)
    lv = sp.softmax(rng.normal(size=(33, 64)), -1).astype(np.float32)
    x64 = xv.astype(np.float64)
    mean, var = x64.mean(-1, keepdims=True), x64.var(-1, keepdims=True)
    want = {"softmax": sp.softmax(x64, -1), "log_softmax": sp.log_softmax(x64, -1),
            "layer_norm": (x64 - mean) / np.sqrt(var + 1e-5) * np.linspace(0.5, 1.5, 64) + 0.1,
            "cross_entropy": -(lv * sp.log_softmax(x64, -1)).sum(-1)}
    for name, y in row_patterns(g, x, labels).items():
        exe = g.compile({x: ts.TensorType((33, 64), ts.float32), labels: ts.TensorType((33, 64), ts.float32)}, [y])
        if fusion == "fused":
            assert kernels(exe) == 1, f"{name}:\n{exe.explain()}"
            # each row read once and written once (plus a few parameters: gamma, constants)
            moved = re.search(r"read (\d+) (B|KiB), wrote (\d+) (B|KiB)", exe.explain()).groups()
            read, wrote = (int(n) * (1024 if unit == "KiB" else 1) for n, unit in (moved[:2], moved[2:]))
            rows_in = 33 * 64 * 4 * (2 if name == "cross_entropy" else 1)
            assert rows_in - 1024 < read <= rows_in + 512, exe.explain()  # explain rounds KiB down
            assert wrote == 33 * 4 * (1 if name == "cross_entropy" else 64), exe.explain()
        got = exe.run({x: xv, labels: lv})[0].numpy()
        np.testing.assert_allclose(got, want[name], rtol=2e-5, atol=2e-5, err_msg=name)


def test_row_regions_on_empty_and_long_rows(fusion):
    g = ts.Graph()
    x = g.placeholder((-1, -1))
    m = g.reduce_max(x, -1, keepdims=True)
    y = x - m + g.reduce_sum(x, -1, keepdims=True)
    for shape in [(0, 5), (3, 0), (3, 1), (2, 70000), (1, 3)]:
        xv = np.random.default_rng(1).normal(size=shape).astype(np.float32)
        want = xv - xv.max(-1, keepdims=True) + xv.sum(-1, keepdims=True) if xv.size else xv
        np.testing.assert_allclose(g.run({x: xv}, [y])[0].numpy(), want, rtol=1e-4, atol=1e-3)
    # Per-row results of empty rows are the reductions' identities.
    per_row = g.reduce_sum(x - g.reduce_max(x, -1, keepdims=True), -1)
    np.testing.assert_array_equal(g.run({x: np.zeros((3, 0), np.float32)}, [per_row])[0].numpy(), [0, 0, 0])


def test_per_row_values_without_their_axis_broadcast_as_numpy_says(fusion):
    """sum(x, -1) has shape (n,): against an (n, n) value it broadcasts along
    the last axis, so a row kernel must not treat it as one value per row."""
    g = ts.Graph()
    x = g.placeholder((4, 4))
    s = g.reduce_sum(x * x, -1)
    y = x - g.reduce_max(x, -1, keepdims=True) + s       # s aligned with the columns
    z = -s * 2.0 + g.reduce_mean(s)                        # per-row epilogue, then a full reduction
    xv = np.arange(16, dtype=np.float32).reshape(4, 4) / 7
    sv = (xv.astype(np.float64) ** 2).sum(-1)
    # Separate runs: s must have no users outside the kernel that could pull it in.
    np.testing.assert_allclose(g.run({x: xv}, [y])[0].numpy(), xv - xv.max(-1, keepdims=True) + sv, rtol=1e-5)
    np.testing.assert_allclose(g.run({x: xv}, [z])[0].numpy(), -sv * 2 + sv.mean(), rtol=1e-5)


def test_reductions_take_elementwise_epilogues():
    """sqrt(sum(x²)) and friends: the ops after a trailing-axes reduction run
    on its output in the same kernel, reading other output-shaped inputs."""
    rng = np.random.default_rng(11)
    xv = rng.normal(size=(6, 5, 7)).astype(np.float32)
    sv = rng.uniform(0.5, 2, size=(6,)).astype(np.float32)
    g = ts.Graph()
    x, s = g.placeholder((6, 5, 7), ts.float32), g.placeholder((6,), ts.float32)
    norm = g.square_root(g.reduce_sum(x * x))
    per_row = g.reduce_max(g.exp(x), axes=[1, 2]) * s + 1.0
    over = g.greater(g.reduce_mean(x, axes=[2], keepdims=True), 0.0)  # a bool result
    for target, want in [(norm, np.sqrt((xv.astype(np.float64) ** 2).sum())),
                         (per_row, np.exp(xv.astype(np.float64)).max(axis=(1, 2)) * sv + 1),
                         (over, xv.mean(axis=2, keepdims=True) > 0)]:
        exe = g.compile({x: ts.TensorType((6, 5, 7), ts.float32), s: ts.TensorType((6,), ts.float32)}, [target])
        got = np.asarray(exe.run([xv, sv])[0])
        if os.environ.get("TENSORSTITCH_FUSION") != "0":
            assert kernels(exe) == 1, exe.explain()
        if want.dtype == bool:
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5)


@pytest.mark.parametrize("cols", [1023, 1024, 1025, 3000])
def test_row_kernels_on_rows_longer_than_a_tile(cols, fusion):
    """Row kernels walk each row tile by tile (1,024 elements): a step that
    reads a per-row value must not overwrite it before the row's last tile."""
    rng = np.random.default_rng(cols)
    xv = rng.normal(size=(5, cols)).astype(np.float32)
    g = ts.Graph()
    x = g.placeholder((5, cols), ts.float32)
    d = x - g.reduce_mean(x, -1, keepdims=True)
    layer_norm = d / g.square_root(g.reduce_mean(d * d, -1, keepdims=True) + 1e-5)
    e = g.exp(x - g.reduce_max(x, -1, keepdims=True))
    softmax = e / g.reduce_sum(e, -1, keepdims=True)
    got = [np.asarray(o) for o in g.run({x: xv}, [d, layer_norm, softmax])]
    x64 = xv.astype(np.float64)
    d64 = x64 - x64.mean(-1, keepdims=True)
    np.testing.assert_allclose(got[0], d64, atol=2e-6)
    np.testing.assert_allclose(got[1], d64 / np.sqrt((d64 ** 2).mean(-1, keepdims=True) + 1e-5), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[2], sp.softmax(x64, -1), rtol=1e-5, atol=1e-7)
