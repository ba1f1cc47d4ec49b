"""The GPU measurements of the CUDA backend, one table, peers in the same run.

Run on a machine with an NVIDIA GPU: ``python bench/gpu_suite.py``. Times are
medians of synchronized calls (wall clock around the call and a device
synchronize); inputs already on the device.
"""
import os
import sys
import time

import numpy as np

import tensorstitch as ts

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generation  # noqa: E402
import nn_models  # noqa: E402
from timing import timed  # noqa: E402


def gelu_primitives(g, a):
    return 0.5 * a * (1.0 + g.erf(a * 0.7071067811865476))


def matmuls():
    """4096³ products: fp32, TF32 (opt-in), bf16, and fp32 with a bias + GeLU
    epilogue; TFLOP/s, torch's cuBLAS in the same run."""
    import os

    rows = []
    n = 4096
    flops = 2.0 * n**3
    rng = np.random.default_rng(3)
    a_np, b_np = rng.normal(size=(n, n)).astype(np.float32), rng.normal(size=(n, n)).astype(np.float32)
    bias_np = rng.normal(size=n).astype(np.float32)
    for label, dtype, tf32 in (("fp32", ts.float32, False), ("TF32", ts.float32, True), ("bf16", ts.bfloat16, False)):
        os.environ["TENSORSTITCH_TF32"] = "1" if tf32 else "0"
        g = ts.Graph()
        pa, pb = g.placeholder((n, n), ts.float32), g.placeholder((n, n), ts.float32)
        types = {pa: ts.TensorType((n, n), ts.float32), pb: ts.TensorType((n, n), ts.float32)}
        ad, bd = g.compile(types, [g.cast(pa, dtype), g.cast(pb, dtype)], device="cuda").run([a_np, b_np])
        qa, qb = g.placeholder((n, n), dtype), g.placeholder((n, n), dtype)
        qtypes = {qa: ts.TensorType((n, n), dtype), qb: ts.TensorType((n, n), dtype)}
        exe = g.compile(qtypes, [g.matmul(qa, qb)], device="cuda")
        t = timed(lambda: exe.run([ad, bd]), lambda: None, 20)
        rows.append((f"matmul 4096³ {label}, tensorstitch", flops / t / 1e12, "TFLOP/s"))
        if label == "fp32":
            bias = g.constant(bias_np)
            fused = g.compile(qtypes, [gelu_primitives(g, g.matmul(qa, qb) + bias)], device="cuda")
            tf = timed(lambda: fused.run([ad, bd]), lambda: None, 20)
            rows.append(("matmul 4096³ fp32 + bias + GeLU / matmul alone, tensorstitch", tf / t, "x"))
        try:
            import torch

            torch.backends.cuda.matmul.allow_tf32 = tf32
            tdt = torch.bfloat16 if dtype == ts.bfloat16 else torch.float32
            at, bt = torch.from_numpy(a_np).cuda().to(tdt), torch.from_numpy(b_np).cuda().to(tdt)
            tt = timed(lambda: at @ bt, torch.cuda.synchronize, 20)
            rows.append((f"matmul 4096³ {label}, torch", flops / tt / 1e12, "TFLOP/s"))
        except ImportError:
            pass
    os.environ.pop("TENSORSTITCH_TF32")
    return rows


CACHED_COMPILE = """
import time, numpy as np, tensorstitch as ts
n = 64 * 2**20
g = ts.Graph()
a = g.placeholder((n,), ts.float32)
g.run({a: np.ones(n, np.float32)}, [a], device="cuda")  # the CUDA context starts here, with no kernel
t0 = time.perf_counter()
g.compile({a: ts.TensorType((n,), ts.float32)}, [0.5 * a * (1.0 + g.erf(a * 0.7071067811865476))], device="cuda")
took = (time.perf_counter() - t0) * 1e3
print(took, int(any("libnvrtc" in line for line in open("/proc/self/maps"))))
"""


def compile_rows():
    """A new process whose disk cache holds the GeLU kernel, and one plan of
    16 distinct new kernels (compiled on several threads)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, TENSORSTITCH_WARM_CUDA="0")
    out = subprocess.run([sys.executable, "-c", CACHED_COMPILE], env=env, capture_output=True, text=True, check=True)
    took, loaded = out.stdout.split()
    rows = [(f"compile in a new process (context up), kernel in the disk cache (NVRTC loaded: {loaded == '1'})",
             float(took), "ms")]
    g = ts.Graph()
    x = g.placeholder((4096,), ts.float32)
    targets = [g.sin(x * float(k)) + g.exp(x) * float(k) for k in range(1, 17)]
    t0 = time.perf_counter()
    exe = g.compile({x: ts.TensorType((4096,), ts.float32)}, [g.concat(targets, 0)], device="cuda")
    took = (time.perf_counter() - t0) * 1e3
    kernels = sum(1 for kind, _ in exe._exe.steps() if kind == "kernel")
    rows.append((f"compile of one plan of {kernels} new kernels (NVRTC on several threads)", took, "ms"))
    return rows


def gan_rows():
    """One iteration of the gan example (both networks, one run), batch 64,
    and the same iteration in PyTorch eager and JAX jit."""
    rows = []
    for label, make in (("tensorstitch", nn_models.gan_tensorstitch), ("torch eager", nn_models.gan_torch),
                        ("JAX jit", nn_models.gan_jax)):
        try:
            rows.append((f"GAN iteration, batch 64, {label}", timed(make("cuda"), lambda: None) * 1e3, "ms"))
        except ImportError:
            pass
    return rows


def main():
    import os
    import tempfile

    # An empty kernel cache, so compile times are of NVRTC, not of the disk.
    os.environ["TENSORSTITCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="ts-bench-cache-")
    rows = []
    n = 64 * 2**20
    x = np.random.default_rng(0).normal(size=n).astype(np.float32)
    # ours: compile (NVRTC), then runs fed with a device array
    t0 = time.perf_counter()
    g = ts.Graph()
    a = g.placeholder((n,), ts.float32)
    exe = g.compile({a: ts.TensorType((n,), ts.float32)}, [gelu_primitives(g, a)], device="cuda")
    rows.append(("first compile, GeLU (NVRTC start-up included)", (time.perf_counter() - t0) * 1e3, "ms"))
    xd = exe.run([x])[0]  # a device array, fed back below
    t0 = time.perf_counter()
    further = g.compile({a: ts.TensorType((n,), ts.float32)}, [g.tanh(a) * 3.0 + 1.0], device="cuda")
    rows.append(("compile of a further new kernel", (time.perf_counter() - t0) * 1e3, "ms"))
    from tensorstitch._cuda_libs import nvrtc_compile

    (source,) = further.cuda_sources()
    t0 = time.perf_counter()
    nvrtc_compile(source.replace("ts_kernel_0", "ts_kernel_again"), "sm_90")
    rows.append(("  of which NVRTC compiling its source (measured again)", (time.perf_counter() - t0) * 1e3, "ms"))
    rows.append(("GeLU 64M fp32, primitives, tensorstitch", timed(lambda: exe.run([xd]), lambda: None) * 1e3, "ms"))
    try:
        import torch

        xt = torch.from_numpy(x).cuda()
        sync = torch.cuda.synchronize
        rows.append(("GeLU 64M, torch F.gelu", timed(lambda: torch.nn.functional.gelu(xt), sync) * 1e3, "ms"))
        rows.append(("GeLU 64M, torch eager primitives",
                     timed(lambda: 0.5 * xt * (1.0 + torch.erf(xt * 0.7071067811865476)), sync) * 1e3, "ms"))
        rows.append(("copy 64M fp32 (device to device), torch", timed(lambda: xt.clone(), sync) * 1e3, "ms"))
        one = torch.ones(1, device="cuda")
        rows.append(("1-element add, torch eager (sync)", timed(lambda: one + one, sync, 300) * 1e6, "us"))
    except ImportError:
        pass
    # row sums of squares over (8192, 8192): one block per row
    m = np.random.default_rng(1).normal(size=(8192, 8192)).astype(np.float32)
    gr = ts.Graph()
    pm = gr.placeholder((8192, 8192), ts.float32)
    ident = gr.compile({pm: ts.TensorType((8192, 8192), ts.float32)}, [pm * 1.0], device="cuda")
    md = ident.run([m])[0]
    exe_r = gr.compile({pm: ts.TensorType((8192, 8192), ts.float32)}, [gr.reduce_sum(pm * pm, axes=[1])], device="cuda")
    rows.append(("row sums of squares 8192², tensorstitch", timed(lambda: exe_r.run([md]), lambda: None) * 1e3, "ms"))
    e = gr.exp(pm - gr.reduce_max(pm, -1, keepdims=True))
    exe_s = gr.compile({pm: ts.TensorType((8192, 8192), ts.float32)}, [e / gr.reduce_sum(e, -1, keepdims=True)],
                       device="cuda")
    rows.append(("softmax 8192² from primitives, tensorstitch", timed(lambda: exe_s.run([md]), lambda: None) * 1e3, "ms"))
    d = pm - gr.reduce_mean(pm, -1, keepdims=True)
    ln = d / gr.square_root(gr.reduce_mean(d * d, -1, keepdims=True) + 1e-5)
    exe_l = gr.compile({pm: ts.TensorType((8192, 8192), ts.float32)}, [ln], device="cuda")
    rows.append(("layer norm 8192² from primitives, tensorstitch", timed(lambda: exe_l.run([md]), lambda: None) * 1e3,
                 "ms"))
    try:
        import torch

        mt = torch.from_numpy(m).cuda()
        rows.append(("row sums of squares 8192², torch", timed(lambda: (mt * mt).sum(1), torch.cuda.synchronize) * 1e3,
                     "ms"))
        rows.append(("softmax 8192², torch", timed(lambda: torch.softmax(mt, -1), torch.cuda.synchronize) * 1e3, "ms"))
        rows.append(("layer norm 8192², torch F.layer_norm",
                     timed(lambda: torch.nn.functional.layer_norm(mt, (8192,)), torch.cuda.synchronize) * 1e3, "ms"))
        rows.append(("copy 8192² fp32, torch", timed(lambda: mt.clone(), torch.cuda.synchronize) * 1e3, "ms"))
    except ImportError:
        pass
    g1 = ts.Graph()
    p = g1.placeholder((1,), ts.float32)
    exe1 = g1.compile({p: ts.TensorType((1,), ts.float32)}, [p + p], device="cuda")
    one_d = exe1.run([np.ones(1, np.float32)])[0]
    rows.append(("1-element add, tensorstitch (device feed, sync)", timed(lambda: exe1.run([one_d]), lambda: None, 300) * 1e6,
                 "us"))
    calls = 2000
    t0 = time.perf_counter()
    futures = [exe1.run_async([one_d]) for _ in range(calls)]
    futures[-1].result()
    rows.append(("1-element add, tensorstitch, asynchronous (per call, 2000 in flight)",
                 (time.perf_counter() - t0) / calls * 1e6, "us"))
    host = np.ones(1, np.float32)
    rows.append(("1-element add, tensorstitch (host feed and result)",
                 timed(lambda: np.asarray(exe1.run([host])[0]), lambda: None, 300) * 1e6, "us"))
    rows += compile_rows()
    rows += matmuls()
    rows += generation.rows("cuda")
    rows += gan_rows()
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  time")
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:8.3f} {unit}")


if __name__ == "__main__":
    main()
