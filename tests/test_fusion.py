"""Stitching: known patterns compile to the expected number of kernels, a
tensor used by several regions is computed once, and random graphs of
elementwise / broadcast / reduce / matmul ops match NumPy fused and unfused."""
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
                               rtol=1e-6)


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
    assert kernels(exe) == 3


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


UNARY = ["tanh", "sigmoid", "sin", "abs", "negative", "relu", "erf", "cos", "square"]
NP_UNARY = {"tanh": np.tanh, "sigmoid": sp.expit, "sin": np.sin, "abs": np.abs, "negative": np.negative,
            "relu": lambda v: np.maximum(v, 0), "erf": sp.erf, "cos": np.cos, "square": np.square}
BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "maximum": np.maximum,
          "minimum": np.minimum}


def random_graph(rng, dtype):
    """A random DAG over one (-1, 5, 6) input; returns (graph, input, feeds value, targets, numpy values)."""
    g = ts.Graph()
    x = g.placeholder((-1, 5, 6), dtype)
    xv = rng.normal(size=(int(rng.integers(1, 4)), 5, 6))
    pool = [(x, xv)]
    for _ in range(int(rng.integers(3, 12))):
        kind = rng.choice(["unary", "binary", "binary", "reduce", "matmul", "scalar"])
        t, v = pool[int(rng.integers(len(pool)))]
        if kind == "unary":
            name = str(rng.choice(UNARY))
            t, v = getattr(g, name)(t), NP_UNARY[name](v)
            if name == "square":
                t, v = g.tanh(t), np.tanh(v)  # keep magnitudes bounded
        elif kind == "binary":
            name = str(rng.choice(list(BINARY)))
            u, w = pool[int(rng.integers(len(pool)))]
            try:
                np.broadcast_shapes(v.shape, w.shape)
            except ValueError:
                continue
            t, v = getattr(g, name)(t, u), BINARY[name](v, w)
        elif kind == "reduce":
            axis = int(rng.integers(0, v.ndim)) if v.ndim else None
            if axis is None:
                continue
            which = str(rng.choice(["reduce_sum", "reduce_mean", "reduce_max"]))
            fn = {"reduce_sum": np.sum, "reduce_mean": np.mean, "reduce_max": np.max}[which]
            if v.shape[axis] == 0:
                continue
            t, v = getattr(g, which)(t, axis, keepdims=True), fn(v, axis=axis, keepdims=True)
        elif kind == "matmul":
            if v.ndim == 0:
                continue
            w = rng.normal(size=(v.shape[-1], v.shape[-1])) / np.sqrt(v.shape[-1])
            t, v = g.matmul(t, g.constant(w.astype(ts._dtypes.to_numpy_dtype(dtype)))), v @ w
        else:
            c = float(rng.uniform(-2, 2))
            t, v = t * c + 0.5, v * c + 0.5
        pool.append((t, v))
    chosen = rng.choice(len(pool), size=min(len(pool), int(rng.integers(1, 4))), replace=False)
    return g, x, xv, [pool[i][0] for i in chosen], [pool[i][1] for i in chosen]


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("dtype", [ts.float32, ts.float64], ids=lambda d: d.name)
def test_random_graphs_match_numpy(fusion, seed, dtype):
    rng = np.random.default_rng(seed)
    g, x, xv, targets, want = random_graph(rng, dtype)
    got = g.run({x: xv.astype(ts._dtypes.to_numpy_dtype(dtype))}, targets)
    tol = 1e-4 if dtype == ts.float32 else 1e-10
    for gv, wv in zip(got, want):
        np.testing.assert_allclose(gv.numpy(), wv, rtol=tol, atol=tol)


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
