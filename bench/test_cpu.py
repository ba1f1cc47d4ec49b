"""CPU benchmarks of issue 4's targets (fp32): run with

    python -m pytest bench --benchmark-only --benchmark-json=bench/cpu.json
    python bench/report.py bench/cpu.json

Each group holds one workload done by tensorstitch and by each installed peer;
report.py prints the ratios.
"""

import numpy as np
import pytest
import scipy.special as sp

import generation as generation_module
import minilm_bench as minilm_module
import nn_models
import tensorstitch as ts
from peers import jax, jnp, torch

N = 16_000_000
RNG = np.random.default_rng(0)
X16M = RNG.normal(size=N).astype(np.float32)
A = RNG.normal(size=(1024, 1024)).astype(np.float32)
B = RNG.normal(size=(1024, 1024)).astype(np.float32)
BIAS = RNG.normal(size=1024).astype(np.float32)
S = RNG.normal(size=(4096, 4096)).astype(np.float32)
ONE = np.ones(1, np.float32)

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch not installed")
needs_jax = pytest.mark.skipif(jax is None, reason="JAX not installed")


def ts_gelu(g, x):
    return 0.5 * x * (1 + g.erf(x * 0.5 ** 0.5))


def compiled(build, *arrays):
    g = ts.Graph()
    phs = [g.placeholder(a.shape) for a in arrays]
    exe = g.compile({p: ts.TensorType(a.shape, ts.float32) for p, a in zip(phs, arrays)}, [build(g, *phs)])
    return exe, list(arrays)


# ---- GeLU written with primitive ops, 16M elements ----
@pytest.mark.benchmark(group="gelu-16M")
def test_gelu_tensorstitch(benchmark):
    exe, feeds = compiled(ts_gelu, X16M)
    assert "1 kernel," in exe.explain()
    benchmark(exe.run, feeds)


@pytest.mark.benchmark(group="gelu-16M")
def test_gelu_numpy_scipy(benchmark):
    benchmark(lambda: 0.5 * X16M * (1 + sp.erf(X16M * 0.5 ** 0.5)))


@needs_torch
@pytest.mark.benchmark(group="gelu-16M")
def test_gelu_torch_unfused(benchmark):
    x = torch.from_numpy(X16M)
    benchmark(lambda: 0.5 * x * (1 + torch.erf(x * 0.5 ** 0.5)))


@needs_torch
@pytest.mark.benchmark(group="gelu-16M")
def test_gelu_torch_F_gelu(benchmark):
    x = torch.from_numpy(X16M)
    benchmark(torch.nn.functional.gelu, x)


@needs_torch
@pytest.mark.benchmark(group="gelu-16M")
def test_gelu_torch_compile(benchmark):
    x = torch.from_numpy(X16M)
    f = torch.compile(lambda v: 0.5 * v * (1 + torch.erf(v * 0.5 ** 0.5)))
    f(x)
    benchmark(f, x)


@needs_jax
@pytest.mark.benchmark(group="gelu-16M")
def test_gelu_jax_jit(benchmark):
    x = jnp.asarray(X16M)
    f = jax.jit(lambda v: 0.5 * v * (1 + jax.scipy.special.erf(v * 0.5 ** 0.5)))
    f(x).block_until_ready()
    benchmark(lambda: f(x).block_until_ready())


# ---- first compile of that graph (a fresh graph each round) ----
@pytest.mark.benchmark(group="gelu-first-compile")
def test_compile_tensorstitch(benchmark):
    def build_and_compile():
        g = ts.Graph()
        x = g.placeholder((N,))
        return g.compile({x: ts.TensorType((N,), ts.float32)}, [ts_gelu(g, x)])
    benchmark.pedantic(build_and_compile, rounds=20)


@needs_jax
@pytest.mark.benchmark(group="gelu-first-compile")
def test_compile_jax(benchmark):
    def build_and_compile():
        f = jax.jit(lambda v: 0.5 * v * (1 + jax.scipy.special.erf(v * 0.5 ** 0.5)))
        return f.lower(jax.ShapeDtypeStruct((N,), jnp.float32)).compile()
    benchmark.pedantic(build_and_compile, rounds=5)


# ---- call overhead: a compiled 1-element add from Python ----
@pytest.mark.benchmark(group="add-1-element")
def test_add_tensorstitch(benchmark):
    exe, feeds = compiled(lambda g, a, b: a + b, ONE, ONE)
    benchmark(exe.run, feeds)


@pytest.mark.benchmark(group="add-1-element")
def test_add_numpy(benchmark):
    benchmark(np.add, ONE, ONE)


@needs_torch
@pytest.mark.benchmark(group="add-1-element")
def test_add_torch(benchmark):
    a = torch.from_numpy(ONE)
    benchmark(torch.add, a, a)


@needs_jax
@pytest.mark.benchmark(group="add-1-element")
def test_add_jax_jit(benchmark):
    a = jnp.asarray(ONE)
    f = jax.jit(lambda x, y: x + y)
    f(a, a).block_until_ready()
    benchmark(f, a, a)


# ---- matmul 1024^2 ----
@pytest.mark.benchmark(group="matmul-1024")
def test_matmul_tensorstitch(benchmark):
    exe, feeds = compiled(lambda g, a, b: a @ b, A, B)
    benchmark(exe.run, feeds)


@pytest.mark.benchmark(group="matmul-1024")
def test_matmul_numpy(benchmark):
    benchmark(np.matmul, A, B)


@needs_torch
@pytest.mark.benchmark(group="matmul-1024")
def test_matmul_torch(benchmark):
    a, b = torch.from_numpy(A), torch.from_numpy(B)
    benchmark(torch.matmul, a, b)


@needs_jax
@pytest.mark.benchmark(group="matmul-1024")
def test_matmul_jax_jit(benchmark):
    a, b = jnp.asarray(A), jnp.asarray(B)
    f = jax.jit(jnp.matmul)
    f(a, b).block_until_ready()
    benchmark(lambda: f(a, b).block_until_ready())


# ---- matmul + bias + GeLU (fused epilogue) ----
@pytest.mark.benchmark(group="matmul-bias-gelu-1024")
def test_mm_gelu_tensorstitch(benchmark):
    exe, feeds = compiled(lambda g, a, b, c: ts_gelu(g, a @ b + c), A, B, BIAS)
    assert "1 kernel," in exe.explain()
    benchmark(exe.run, feeds)


@pytest.mark.benchmark(group="matmul-bias-gelu-1024")
def test_mm_gelu_numpy_scipy(benchmark):
    def f():
        z = A @ B + BIAS
        return 0.5 * z * (1 + sp.erf(z * 0.5 ** 0.5))
    benchmark(f)


@needs_torch
@pytest.mark.benchmark(group="matmul-bias-gelu-1024")
def test_mm_gelu_torch(benchmark):
    a, b, c = torch.from_numpy(A), torch.from_numpy(B), torch.from_numpy(BIAS)
    benchmark(lambda: torch.nn.functional.gelu(torch.addmm(c, a, b)))


@needs_jax
@pytest.mark.benchmark(group="matmul-bias-gelu-1024")
def test_mm_gelu_jax_jit(benchmark):
    a, b, c = jnp.asarray(A), jnp.asarray(B), jnp.asarray(BIAS)
    f = jax.jit(lambda x, y, z: jax.nn.gelu(x @ y + z, approximate=False))
    f(a, b, c).block_until_ready()
    benchmark(lambda: f(a, b, c).block_until_ready())


# ---- softmax over the rows of 4096 x 4096 ----
@pytest.mark.benchmark(group="softmax-4096")
def test_softmax_tensorstitch(benchmark):
    exe, feeds = compiled(lambda g, s: g.softmax(s, -1), S)
    assert "1 kernel," in exe.explain()
    benchmark(exe.run, feeds)


@pytest.mark.benchmark(group="softmax-4096")
def test_softmax_scipy(benchmark):
    benchmark(sp.softmax, S, axis=-1)


@needs_torch
@pytest.mark.benchmark(group="softmax-4096")
def test_softmax_torch(benchmark):
    s = torch.from_numpy(S)
    benchmark(torch.softmax, s, -1)


@needs_jax
@pytest.mark.benchmark(group="softmax-4096")
def test_softmax_jax_jit(benchmark):
    s = jnp.asarray(S)
    f = jax.jit(lambda v: jax.nn.softmax(v, axis=-1))
    f(s).block_until_ready()
    benchmark(lambda: f(s).block_until_ready())


def copy_floor(benchmark):
    """Reads and writes the 4096² matrix once: the floor of a one-pass row kernel."""
    exe, feeds = compiled(lambda g, s: -s, S)
    benchmark(exe.run, feeds)


@pytest.mark.benchmark(group="softmax-4096")
def test_copy_floor_tensorstitch(benchmark):
    copy_floor(benchmark)


@pytest.mark.benchmark(group="softmax-4096")
def test_softmax_primitives_tensorstitch(benchmark):
    """Softmax written from primitives: a row region, one kernel."""
    def softmax(g, s):
        e = g.exp(s - g.reduce_max(s, -1, keepdims=True))
        return e / g.reduce_sum(e, -1, keepdims=True)
    exe, feeds = compiled(softmax, S)
    assert "1 kernel," in exe.explain()
    rows = S[:4].astype(np.float64)
    e = np.exp(rows - rows.max(-1, keepdims=True))
    np.testing.assert_allclose(np.asarray(exe.run(feeds)[0])[:4], e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-8)
    benchmark(exe.run, feeds)


# ---- layer norm over the rows of 4096 x 4096, from primitives ----
GAMMA = RNG.normal(size=4096).astype(np.float32)
BETA = RNG.normal(size=4096).astype(np.float32)


def ts_layer_norm(g, s):
    d = s - g.reduce_mean(s, -1, keepdims=True)
    var = g.reduce_mean(d * d, -1, keepdims=True)
    return d / g.square_root(var + 1e-5) * g.constant(GAMMA) + g.constant(BETA)


@pytest.mark.benchmark(group="layernorm-4096")
def test_layer_norm_tensorstitch(benchmark):
    exe, feeds = compiled(ts_layer_norm, S)
    assert "1 kernel," in exe.explain()
    # What is timed must be right: a few rows against float64.
    rows = S[:4].astype(np.float64)
    d = rows - rows.mean(-1, keepdims=True)
    want = d / np.sqrt((d * d).mean(-1, keepdims=True) + 1e-5) * GAMMA + BETA
    np.testing.assert_allclose(np.asarray(exe.run(feeds)[0])[:4], want, rtol=1e-4, atol=1e-4)
    benchmark(exe.run, feeds)


@needs_torch
@pytest.mark.benchmark(group="layernorm-4096")
def test_layer_norm_torch(benchmark):
    s, gamma, beta = torch.from_numpy(S), torch.from_numpy(GAMMA), torch.from_numpy(BETA)
    benchmark(torch.nn.functional.layer_norm, s, (4096,), gamma, beta, 1e-5)


@needs_jax
@pytest.mark.benchmark(group="layernorm-4096")
def test_layer_norm_jax_jit(benchmark):
    s, gamma, beta = jnp.asarray(S), jnp.asarray(GAMMA), jnp.asarray(BETA)

    def layer_norm(v):
        d = v - v.mean(-1, keepdims=True)
        return d / jnp.sqrt((d * d).mean(-1, keepdims=True) + 1e-5) * gamma + beta
    f = jax.jit(layer_norm)
    f(s).block_until_ready()
    benchmark(lambda: f(s).block_until_ready())


@pytest.mark.benchmark(group="layernorm-4096")
def test_layer_norm_copy_floor_tensorstitch(benchmark):
    copy_floor(benchmark)


# ---- compile time of a large gradient graph (a residual tanh MLP and its gradients) ----
def residual_mlp_gradients(layers):
    g = ts.Graph()
    x = g.placeholder((-1, 16))
    h, weights = x, []
    for i in range(layers):
        w = g.variable(np.full((16, 16), 0.01, np.float32), name=f"w{i}")
        weights.append(w)
        h = g.tanh(h @ w + 0.1) * 0.5 + h
    loss = g.reduce_sum(h * h)
    return g, x, [loss] + list(g.gradients(loss, weights).values())


@pytest.mark.parametrize("layers", [200, 400, 800, 1600])
@pytest.mark.benchmark(group="compile-gradient-graph")
def test_compile_gradient_graph(benchmark, layers):
    g, x, targets = residual_mlp_gradients(layers)
    benchmark.extra_info["nodes"] = len(g.operations())
    benchmark.pedantic(lambda: g.compile({x: ts.TensorType((8, 16), ts.float32)}, targets), rounds=3, iterations=1)


# ---- deep-MNIST training step (batch 64) and a 3x3 convolution, forward and backward ----
CPU_CONV = (8, 64, 56, 64)


@pytest.mark.benchmark(group="deep-mnist-64")
def test_deep_mnist_tensorstitch(benchmark):
    benchmark(nn_models.mnist_tensorstitch(64, "cpu"))


@needs_torch
@pytest.mark.benchmark(group="deep-mnist-64")
def test_deep_mnist_torch(benchmark):
    benchmark(nn_models.mnist_torch(64, "cpu"))


@needs_jax
@pytest.mark.benchmark(group="deep-mnist-64")
def test_deep_mnist_jax(benchmark):
    benchmark(nn_models.mnist_jax(64, "cpu"))


@pytest.mark.benchmark(group="conv3x3-8x64x56x56")
def test_conv3x3_tensorstitch(benchmark):
    benchmark(nn_models.conv_tensorstitch(CPU_CONV, "cpu"))


@needs_torch
@pytest.mark.benchmark(group="conv3x3-8x64x56x56")
def test_conv3x3_torch(benchmark):
    benchmark(nn_models.conv_torch(CPU_CONV, "cpu"))


# ---- one GAN iteration (the gan example's networks; both updates), batch 64 ----
@pytest.mark.benchmark(group="gan-iteration-64")
def test_gan_tensorstitch(benchmark):
    benchmark(nn_models.gan_tensorstitch("cpu"))


@needs_torch
@pytest.mark.benchmark(group="gan-iteration-64")
def test_gan_torch(benchmark):
    benchmark(nn_models.gan_torch("cpu"))


@needs_jax
@pytest.mark.benchmark(group="gan-iteration-64")
def test_gan_jax(benchmark):
    benchmark(nn_models.gan_jax("cpu"))


# ---- LSTM-512 generation at batch 1, the textgen example's step (bench/generation.py) ----
@pytest.mark.benchmark(group="lstm512-generation-200-tokens")
@pytest.mark.parametrize("make", [
    generation_module.ts_loop, generation_module.ts_step,
    pytest.param(generation_module.torch_step, marks=needs_torch),
    pytest.param(generation_module.jax_scan, marks=needs_jax),
    pytest.param(generation_module.jax_step, marks=needs_jax)],
    ids=lambda f: f.__name__.replace("ts_", "tensorstitch_"))
def test_generation(benchmark, make):
    fn = make("cpu")
    fn()
    benchmark.extra_info["tokens"] = generation_module.LENGTH
    benchmark(fn)


# ---- all-MiniLM-L6-v2 sentence embeddings, 32 x 128 tokens (bench/minilm_bench.py) ----
def minilm_folder():
    from tensorstitch.examples import minilm

    try:
        return minilm_module.float32_model(minilm.model_dir())
    except FileNotFoundError as e:
        pytest.skip(str(e))


@pytest.mark.benchmark(group="minilm-32x128")
def test_minilm_tensorstitch(benchmark):
    benchmark(minilm_module.ts_encoder(minilm_folder(), "cpu"))


@needs_torch
@pytest.mark.benchmark(group="minilm-32x128")
def test_minilm_torch(benchmark):
    pytest.importorskip("transformers")
    benchmark(minilm_module.torch_encoder(minilm_folder(), "cpu"))


@pytest.mark.benchmark(group="minilm-32x128")
def test_minilm_onnxruntime(benchmark):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("transformers")
    benchmark(minilm_module.onnxruntime_encoder(minilm_folder()))
