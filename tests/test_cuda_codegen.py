"""The portable scalar math reaches a GPU compiler: for every elementwise op
of the registry, the generated CUDA kernel (prelude + kernel) compiles with
NVRTC for sm_90. NVRTC comes from the test extra's pip package; no GPU is
needed, and nothing of CUDA is needed to build or import the package."""

import numpy as np
import pytest

import tensorstitch as ts
from tensorstitch import _core
from helpers import seed_of
from tensorstitch._cuda_libs import library_candidates, nvrtc_compile

pytestmark = pytest.mark.skipif(not library_candidates("nvrtc"), reason="nvidia-cuda-nvrtc is not installed")

ELEMENTWISE = sorted(n for n in _core.op_names() if _core.op_info(n)["scalar"])
FUNCTORS = _core._cuda_prelude()


def kernels_for(op, dtype):
    """The CUDA sources of a graph applying `op` to placeholders of `dtype`."""
    g = ts.Graph()
    arity = _core.op_info(op)["num_inputs"]
    xs = [g.placeholder((2, 3), dtype) for _ in range(arity)]
    attrs = {"dtype": ts.int8} if op == "cast" else {}
    if op == "select":
        xs[0] = g.placeholder((2, 3), ts.bool)
    y = g._op1(op, xs, **attrs)
    exe = g.compile({x: ts.TensorType(x.shape, x.dtype) for x in xs}, [y])
    return exe.cuda_sources()


def test_every_elementwise_op_names_a_functor_of_the_prelude():
    # Listed once in TS_SCALAR_FUNCTIONS, which backends build their tables from.
    assert len(ELEMENTWISE) >= 50
    for op in ELEMENTWISE:
        assert FUNCTORS.count(f"X({_core.op_info(op)['scalar']}, ") == 1, op


@pytest.mark.parametrize("op", ELEMENTWISE)
def test_generated_kernel_compiles_for_sm90(op):
    dtypes = [ts.float32, ts.float64]
    if op not in {"exp", "log"}:
        dtypes.append(ts.int32)
    compiled = 0
    for dtype in dtypes:
        try:
            sources = kernels_for(op, dtype)
        except (ts.DTypeError, ts.ShapeError):
            continue  # the op does not take this dtype
        assert sources and all(s is not None for s in sources), (op, dtype)
        for src in sources:
            cubin = nvrtc_compile(src, "sm_90")
            assert cubin[:4] == b"\x7fELF", (op, dtype)  # a CUBIN is an ELF image
            compiled += 1
    assert compiled >= 1


def test_fused_region_and_narrow_dtypes_compile():
    g = ts.Graph()
    x = g.placeholder((4, 8), ts.float16)
    b = g.placeholder((4, 8), ts.int8)
    y = g.gelu(x) * 2.0 + g.cast(b, ts.float16)
    exe = g.compile({x: ts.TensorType((4, 8), ts.float16), b: ts.TensorType((4, 8), ts.int8)}, [y])
    (src,) = exe.cuda_sources()
    assert "ts::math::Gelu::f" in src and "f32_to_f16" in src
    assert nvrtc_compile(src, "sm_90")[:4] == b"\x7fELF"


def test_compile_error_carries_the_log():
    with pytest.raises(ts.CompileError, match="NVRTC"):
        nvrtc_compile("extern \"C\" __global__ void k() { undefined_name(); }")


def _gpu():
    """CuPy and a GPU, or None (CI has neither; the GPU machine has both)."""
    try:
        import cupy as cp
        cp.cuda.runtime.getDeviceCount()
        return cp
    except Exception:  # no CuPy, no driver or no device: skip
        return None


@pytest.mark.skipif(_gpu() is None, reason="needs CuPy and a GPU")
def test_generated_kernels_run_on_the_gpu_as_on_the_cpu(tmp_path):
    """For every elementwise op: the generated source, compiled by NVRTC for
    this GPU and launched, gives the CPU's results (float32 within 2 ulp-ish,
    integers exactly)."""
    cp = _gpu()
    arch = "sm_" + cp.cuda.Device().compute_capability
    wrong, ran = [], 0
    for op in ELEMENTWISE:
        rng = np.random.default_rng(seed_of(op))
        arity = _core.op_info(op)["num_inputs"]
        for dtype, np_dtype in [(ts.float32, np.float32), (ts.int32, np.int32)]:
            g = ts.Graph()
            xs = [g.placeholder((3, 1000), ts.bool if (op == "select" and k == 0) else dtype) for k in range(arity)]
            try:
                y = g._op1(op, xs, **({"dtype": ts.int8} if op == "cast" else {}))
            except ts.DTypeError:
                continue  # the op does not take this dtype
            values = []
            for k in range(arity):
                if op == "select" and k == 0:
                    values.append(rng.random((3, 1000)) < 0.5)
                elif dtype == ts.int32:
                    values.append(rng.integers(1, 50, (3, 1000)).astype(np_dtype))
                else:
                    values.append(rng.uniform(0.2, 0.9, (3, 1000)).astype(np_dtype))
            exe = g.compile({x: ts.TensorType((3, 1000), x.dtype) for x in xs}, [y])
            want = np.asarray(exe.run(values)[0])
            (src,) = exe.cuda_sources()
            cubin = tmp_path / f"{op}_{dtype.name}.cubin"
            cubin.write_bytes(nvrtc_compile(src, arch))
            kernel = cp.RawModule(path=str(cubin)).get_function("ts_kernel_0")
            ins = [cp.asarray(v) for v in values]
            out = cp.empty(want.shape, want.dtype)
            kernel(((want.size + 1023) // 1024,), (256,), (*ins, out))  # 4 elements a thread
            got = cp.asnumpy(out)
            ran += 1
            ok = (np.allclose(got, want, rtol=2e-6, atol=1e-7, equal_nan=True) if want.dtype.kind == "f"
                  else np.array_equal(got, want))
            if not ok:
                wrong.append(f"{op} {dtype.name}: max difference {np.max(np.abs(got.astype(float) - want.astype(float)))}")
    assert ran >= 80
    assert not wrong, "GPU results differ from the CPU's:\n" + "\n".join(wrong)


def test_reduction_kernels_with_epilogues_compile():
    g = ts.Graph()
    x = g.placeholder((16, 300), ts.float32)
    s = g.placeholder((16,), ts.float32)
    targets = [g.square_root(g.reduce_sum(x * x, axes=[1])) * s, g.reduce_max(g.exp(x)), g.reduce_mean(x, axes=[1])]
    exe = g.compile({x: ts.TensorType((16, 300), ts.float32), s: ts.TensorType((16,), ts.float32)}, targets)
    sources = exe.cuda_sources()
    assert len(sources) == 3 and all("__shfl_down_sync" in src for src in sources)
    for src in sources:
        assert nvrtc_compile(src, "sm_90")[:4] == b"\x7fELF"


def test_row_kernels_compile():
    """Softmax, layer norm and log-sum-exp from primitives: one row kernel
    each, rendered and compiled for sm_90."""
    g = ts.Graph()
    x = g.placeholder((64, 1000), ts.float32)
    d = x - g.reduce_mean(x, -1, keepdims=True)
    layer_norm = d / g.square_root(g.reduce_mean(d * d, -1, keepdims=True) + 1e-5)
    e = g.exp(x - g.reduce_max(x, -1, keepdims=True))
    softmax = e / g.reduce_sum(e, -1, keepdims=True)
    logsumexp = g.log(g.reduce_sum(g.exp(x), axes=[-1]))
    exe = g.compile({x: ts.TensorType((64, 1000), ts.float32)}, [layer_norm, softmax, logsumexp])
    sources = exe.cuda_sources()
    assert len(sources) == 3 and all("__shared__ R pr[" in src for src in sources)
    for src in sources:
        assert nvrtc_compile(src, "sm_90")[:4] == b"\x7fELF"


# ---- kernels of the ops that are not elementwise ----

def _samples(g, dt):
    """Per op of the CUDA kernel table: graphs using it on placeholders of `dt`
    (shapes with a 0-sized dimension included), as {op: [outputs]}."""
    x = g.placeholder((3, 4, 5), dt)
    e = g.placeholder((0, 4), dt)
    # Index placeholders are named index<N>: N is the size they index.
    i = g.placeholder((2, 3), ts.int64, name="index4")
    j = g.placeholder((6,), ts.int32, name="index3")
    u = g.placeholder((3, 2, 3, 5), dt)
    nd = g.placeholder((2, 2), ts.int8, name="index3_nd")
    along = g.placeholder((3, 2, 5), ts.int64, name="index4_along")
    v = g.placeholder((4, 5), dt)
    feeds = [x, e, i, j, u, nd, along, v]
    builders = {
        "gather": lambda: [g.gather(x, i, axis=1), g.gather(x, j, axis=0), g.gather(e, j, axis=1)],
        "scatter_add": lambda: [g.scatter_add(x, i, u, axis=1)],
        "gather_nd": lambda: [g.gather_nd(x, nd)],
        "scatter_nd_add": lambda: [g.scatter_nd_add(x, nd, g.gather_nd(x, nd))],
        "take_along_axis": lambda: [g.take_along_axis(x, along, axis=1)],
        "one_hot": lambda: [g.one_hot(j, 7, dtype=dt), g.one_hot(i, 3, axis=0)],
        "slice": lambda: [g.slice(x, [1, None, 4], [None, 3, 0], [1, 2, -1])],
        "pad": lambda: [g.pad(x, [(1, 2), (0, 0), (3, 1)], value=2.5)],
        "tile": lambda: [g.tile(x, [2, 1, 3])],
        "flip": lambda: [g.flip(x, [0, 2])],
        "concat": lambda: [g.concat([x, x, g.slice(x, [0, 0, 0], [3, 4, 0])], axis=2), g.concat([e, e], axis=0)],
        "split": lambda: list(g.split(x, [2, 0, 3], axis=2)),
        "transpose": lambda: [g.transpose(x, [2, 0, 1])],
        "broadcast_to": lambda: [g.broadcast_to(v, (3, 4, 5))],
        "shape_of": lambda: [g.shape_of(x)],
        "reduce_sum": lambda: [g.reduce_sum(x, axes=[0, 2]), g.reduce_sum(e, axes=[0])],
        "reduce_mean": lambda: [g.reduce_mean(x, axes=[1])],
        "reduce_max": lambda: [g.reduce_max(x, axes=[0])],
        "reduce_min": lambda: [g.reduce_min(e, axes=[0])],
        "reduce_prod": lambda: [g.reduce_prod(x, axes=[0, 1])],
        "argmax": lambda: [g.argmax(x, axis=1), g.argmax(x)],
        "argmin": lambda: [g.argmin(x, axis=0)],
        "sort": lambda: [g.sort(x, axis=1), g.sort(x, descending=True)],
        "argsort": lambda: [g.argsort(x, axis=0)],
        "top_k": lambda: list(g.top_k(x, 2)),
        "cumsum": lambda: [g.cumsum(x, axis=1), g.cumsum(x, axis=2, exclusive=True, reverse=True)],
        "matmul": lambda: [g.matmul(x, g.transpose(v)), g.matmul(v, v, transpose_b=True), g.matmul(j, j)],
        "random_uniform": lambda: [g.random_uniform((3, 4), -1.0, 2.0, dt, seed=5), g.random_uniform((0, 2), dtype=dt)],
        "random_normal": lambda: [g.random_normal((5,), 1.0, 3.0, dt, seed=-7)],
        "pool2d": lambda: [g.max_pool2d(u, ts.Pool2dDescriptor((2, 3), (1, 2), "SAME")),
                           g.avg_pool2d(u, ts.Pool2dDescriptor(2, 1, ((1, 0), (0, 1)), "NHWC"))],
        "pool2d_grad": lambda: list(g.gradients(g.reduce_sum(g.max_pool2d(u, ts.Pool2dDescriptor(2, 1, "SAME"))) +
                                                g.reduce_sum(g.avg_pool2d(u, ts.Pool2dDescriptor(2, 1, "VALID", "NHWC"))),
                                                [u]).values()),
        "im2col": lambda: [g._op1("im2col", [u], kernel=[2, 3], strides=[1, 2], dilations=[1, 1], pads=[1, 0, 2, 1])],
        "col2im": lambda: [g._op1("col2im", [g._op1("im2col", [u], kernel=[2, 2], strides=[2, 1], dilations=[1, 2],
                                                   pads=[0, 1, 1, 1])],
                                  kernel=[2, 2], strides=[2, 1], dilations=[1, 2], pads=[0, 1, 1, 1], size=[2, 3])],
    }
    out = {}
    for op, build in builders.items():
        try:
            out[op] = build()
        except ts.DTypeError:
            continue  # the op does not take this dtype
    if dt in (ts.float16, ts.bfloat16, ts.float32, ts.float64):
        out["softmax"] = [g.softmax(x, axis=1)]
        out["log_softmax"] = [g.log_softmax(x, axis=0)]
        # Gradient ops: the adjoints of movement and broadcasting.
        loss = g.reduce_sum(g.pad(g.slice(x, [1], [3]), [(0, 1), (0, 0), (0, 0)]) * g.tile(v, [1, 1]))
        out["movement_grad"] = list(g.gradients(loss, [x, v]).values())
        z = g.placeholder((1, 5), dt)
        feeds.append(z)
        out["sum_to_like"] = list(g.gradients(g.reduce_sum(x * z), [z]).values())
        xs = g.split(x, 2, axis=1)
        out["split_like"] = list(g.gradients(g.reduce_sum(xs[0] * xs[1]), [x]).values())
        out["broadcast_like"] = list(g.gradients(g.reduce_sum(g.broadcast_to(v, (3, 4, 5))), [v]).values())
        out["scatter_add_along_axis"] = list(g.gradients(g.reduce_sum(g.take_along_axis(x, along, axis=1)), [x]).values())
    return feeds, out


@pytest.mark.parametrize("dt", [ts.float32, ts.float16, ts.float64, ts.int32, ts.int8, ts.bool],
                         ids=lambda d: d.name)
def test_every_op_kernel_compiles_for_sm90(dt, monkeypatch):
    g = ts.Graph()
    feeds, per_op = _samples(g, dt)
    targets = [t for outs in per_op.values() for t in outs]
    compiled = 0
    for fusion in ("1", "0"):  # unfused graphs give every op its own kernel
        monkeypatch.setenv("TENSORSTITCH_FUSION", fusion)
        exe = g.compile({f: ts.TensorType(f.shape, f.dtype) for f in feeds}, targets)
        sources = exe.cuda_sources()
        assert sources and all(s is not None for s in sources)
        for src in sources:
            assert nvrtc_compile(src, "sm_90")[:4] == b"\x7fELF"
            compiled += 1
    assert compiled > len(per_op)


def test_every_op_with_a_cpu_kernel_has_a_cuda_kernel_and_a_sample():
    # A new op needs a CUDA kernel, and a sample above that compiles it.
    g = ts.Graph()
    _, per_op = _samples(g, ts.float32)
    cpu = set(_core._kernel_names("cpu"))
    assert len(cpu) >= 30
    assert cpu - set(_core._kernel_names("cuda")) == set()
    assert cpu - set(per_op) == set()
