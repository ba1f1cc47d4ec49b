"""The CUDA backend, where a GPU is present (CI has none: these skip there;
tests/gpu_machine.sh runs them on the GPU machine). Every op's kernels run
on the device and match the CPU; nothing falls back to the host."""
import numpy as np
import pytest

import tensorstitch as ts
from helpers import TOL, np_dtype, seed_of

CUDA = [d for d in ts._core.devices() if d.kind == "cuda"]
pytestmark = pytest.mark.skipif(not CUDA, reason="needs an NVIDIA GPU and driver")


def both(build, feeds_np, feed_types):
    """The graph's results on the CPU and on CUDA."""
    out = []
    for device in ("cpu", "cuda"):
        g = ts.Graph()
        phs = [g.placeholder(t.shape, t.dtype) for t in feed_types]
        exe = g.compile(dict(zip(phs, feed_types)), [build(g, *phs)], device=device)
        res = exe.run(feeds_np)[0]
        assert str(res.device).startswith(device)
        out.append(np.asarray(res))
    return out


def test_gelu_and_narrow_and_integer_chains_match_the_cpu():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 37)).astype(np.float32)
    cpu, gpu = both(lambda g, a: 0.5 * a * (1.0 + g.erf(a * 0.7071067811865476)), [x],
                    [ts.TensorType((1000, 37), ts.float32)])
    np.testing.assert_array_equal(gpu, cpu)  # the same portable math, bit for bit
    h = rng.normal(size=(64, 9)).astype(np.float16)
    cpu, gpu = both(lambda g, a: g.sigmoid(g.exp(a) * 3.0 - a), [h], [ts.TensorType((64, 9), ts.float16)])
    np.testing.assert_allclose(gpu.astype(np.float32), cpu.astype(np.float32), rtol=1e-3)
    i = rng.integers(-100, 100, (50, 3)).astype(np.int8)
    cpu, gpu = both(lambda g, a: (a * a + 7) // 3 - a, [i], [ts.TensorType((50, 3), ts.int8)])
    np.testing.assert_array_equal(gpu, cpu)


def test_broadcasting_dynamic_shapes_and_async():
    rng = np.random.default_rng(1)
    g = ts.Graph()
    x = g.placeholder((-1, 5), ts.float32)
    b = g.placeholder((5,), ts.float32)
    y = g.tanh(x * b + 1.0)
    exe = g.compile({x: ts.TensorType((-1, 5), ts.float32), b: ts.TensorType((5,), ts.float32)}, [y], device="cuda")
    bv = rng.normal(size=5).astype(np.float32)
    for rows in (1, 7, 300):
        xv = rng.normal(size=(rows, 5)).astype(np.float32)
        np.testing.assert_allclose(np.asarray(exe.run([xv, bv])[0]), np.tanh(xv * bv + 1), rtol=1e-6, atol=1e-6)
    futures = [exe.run_async([np.full((4, 5), k, np.float32), bv]) for k in range(6)]
    for k, f in enumerate(futures):
        want = np.tanh(np.full((4, 5), k, np.float32) * bv + 1)
        np.testing.assert_allclose(np.asarray(f.result(timeout=60)[0]), want, rtol=1e-6, atol=1e-6)


def test_variables_update_on_the_device_and_commit():
    g = ts.Graph()
    w = g.variable(np.zeros(4, np.float32))
    x = g.placeholder((4,), ts.float32)
    step = g.assign(w, w - x * 0.5)
    exe = g.compile({x: ts.TensorType((4,), ts.float32)}, [w], [step], device="cuda")
    for _ in range(3):
        exe.run([np.ones(4, np.float32)])
    np.testing.assert_array_equal(g.variable_value(w), np.full(4, -1.5, np.float32))


def _random_feed(rng, shape, dt, bound):
    """Values for a placeholder: indices within `bound` (negative ones too), else random numbers."""
    if bound is not None:
        return rng.integers(-bound, bound, size=shape).astype(np_dtype(dt))
    if dt == ts.bool:
        return rng.random(shape) < 0.5
    if dt in (ts.int8, ts.int32, ts.int64):
        return rng.integers(-5, 5, size=shape).astype(np_dtype(dt))
    return rng.normal(size=shape).astype(np_dtype(dt))


@pytest.mark.parametrize("fusion", ["1", "0"])
@pytest.mark.parametrize("dt", [ts.float32, ts.float64, ts.float16, ts.int32, ts.int8, ts.bool], ids=lambda d: d.name)
def test_every_op_kernel_matches_the_cpu(dt, fusion, monkeypatch):
    from test_cuda_codegen import _samples
    monkeypatch.setenv("TENSORSTITCH_FUSION", fusion)
    g = ts.Graph()
    feeds, per_op = _samples(g, dt)
    rng = np.random.default_rng(seed_of("cuda-ops", dt.name, fusion))
    values = {f: _random_feed(rng, f.shape, f.dtype, int(f.name[5]) if f.name.startswith("index") else None)
              for f in feeds}
    for op, targets in per_op.items():
        cpu = g.run(values, targets, device="cpu")
        gpu = g.run(values, targets, device="cuda")
        for c, u in zip(cpu, gpu):
            assert u.device == ts.Device("cuda")
            c64, u64 = np.asarray(c).astype(np.float64), np.asarray(u).astype(np.float64)
            rtol, atol = TOL.get(c.dtype, (0, 0))
            np.testing.assert_allclose(u64, c64, rtol=rtol * 10, atol=atol * 10, err_msg=f"{op} {dt.name}")


@pytest.mark.parametrize("dt", [ts.float32, ts.float64, ts.float16, ts.bfloat16], ids=lambda d: d.name)
def test_random_numbers_are_the_same_bits_on_the_cpu_and_cuda(dt):
    g = ts.Graph()
    x = g.placeholder((-1, 7), dt)
    targets = [g.random_uniform((1 << 16,), -3.0, 5.0, dt, seed=9), g.random_normal((1 << 16,), 0.5, 2.0, dt, seed=9),
               g.dropout(x, 0.4, seed=2)]
    xv = np.ones((300, 7), np_dtype(dt))
    for _ in range(2):  # two runs of each: the run count enters the draws
        cpu = g.run({x: xv}, targets, device="cpu")
        gpu = g.run({x: xv}, targets, device="cuda")
        for c, u in zip(cpu, gpu):
            assert np.asarray(c).tobytes() == np.asarray(u).tobytes()


def test_bad_index_raises_naming_the_op_and_changes_no_variable():
    g = ts.Graph()
    w = g.variable(np.zeros(3, np.float32), name="w")
    i = g.placeholder((2,), ts.int32)
    step = g.assign(w, g.scatter_add(w, i, g.constant(np.ones(2, np.float32))))
    exe = g.compile({i: ts.TensorType((2,), ts.int32)}, [w], [step], device="cuda")
    exe.run([np.array([0, -1], np.int32)])
    with pytest.raises(ts.ShapeError, match=r"scatter_add.*index 7 is out of range for axis 0 of size 3"):
        exe.run([np.array([1, 7], np.int32)])
    np.testing.assert_array_equal(g.variable_value(w), [1, 0, 1])
    assert g.variable_value(w).device == ts.Device("cuda")
    exe.run([np.array([1, 1], np.int32)])  # the next run works
    np.testing.assert_array_equal(g.variable_value(w), [1, 2, 1])


def test_bad_device_index_is_a_device_error():
    g = ts.Graph()
    x = g.placeholder((2,), ts.float32)
    with pytest.raises(ts.DeviceError, match="cuda:99"):
        g.compile({x: ts.TensorType((2,), ts.float32)}, [x + 1.0], device="cuda:99")


def test_reductions_with_prologue_and_epilogue_match_the_cpu():
    rng = np.random.default_rng(2)
    # Trailing-axes reductions that are not row kernels (those come next).
    x = rng.normal(size=(37, 10, 100)).astype(np.float32)
    x[3, 1, 17] = np.nan  # max and min propagate NaN, as on the CPU
    for build in (lambda g, a: g.square_root(g.reduce_sum(a * a)) * 2.0,
                  lambda g, a: g.reduce_mean(g.exp(a * 0.1), axes=[1, 2]) - 1.0,
                  lambda g, a: g.reduce_max(a, axes=[2]),
                  lambda g, a: g.reduce_min(g.abs(a)),
                  lambda g, a: g.reduce_sum(a, axes=[1, 2])):
        cpu, gpu = both(build, [x], [ts.TensorType((37, 10, 100), ts.float32)])
        np.testing.assert_allclose(gpu, cpu, rtol=1e-5, atol=1e-5)


def test_row_kernels_match_the_cpu():
    """Softmax, layer norm, log-sum-exp and cross-entropy from primitives,
    each one row kernel, on rows shorter and longer than a block."""
    rng = np.random.default_rng(3)
    for cols in (7, 1000, 5000):
        x = rng.normal(size=(33, cols)).astype(np.float32)
        labels = rng.random((33, cols)).astype(np.float32)

        def layer_norm(g, a):
            d = a - g.reduce_mean(a, -1, keepdims=True)
            return d / g.square_root(g.reduce_mean(d * d, -1, keepdims=True) + 1e-5) * 1.5 + 0.25

        def softmax(g, a):
            e = g.exp(a - g.reduce_max(a, -1, keepdims=True))
            return e / g.reduce_sum(e, -1, keepdims=True)

        def logsumexp(g, a):
            return g.log(g.reduce_sum(g.exp(a), axes=[-1]))

        for build in (layer_norm, softmax, logsumexp):
            cpu, gpu = both(build, [x], [ts.TensorType((33, cols), ts.float32)])
            np.testing.assert_allclose(gpu, cpu, rtol=2e-5, atol=2e-6, err_msg=f"{build.__name__} {cols}")
        def cross_entropy(g, a, y):
            return g.reduce_sum(-y * (a - g.log(g.reduce_sum(g.exp(a), -1, keepdims=True))), axes=[-1])

        cpu, gpu = both(cross_entropy, [x, labels], [ts.TensorType((33, cols), ts.float32)] * 2)
        np.testing.assert_allclose(gpu, cpu, rtol=2e-5, atol=2e-5)


def test_profile_on_cuda():
    g = ts.Graph()
    x = g.placeholder((1 << 20,), ts.float32)
    exe = g.compile({x: ts.TensorType((1 << 20,), ts.float32)}, [g.exp(x) * 2.0], device="cuda")
    prof = exe.profile([np.ones(1 << 20, np.float32)])
    assert len(prof.kernels) == 1 and prof.kernels[0]["seconds"] > 0
    assert prof.copy_bandwidth > 1e11  # a GPU copies far faster than 100 GB/s
    assert "cuda" in str(prof)


CACHE_PROBE = """
import sys, time, numpy as np, tensorstitch as ts
g = ts.Graph(); x = g.placeholder((1000,))
started = time.perf_counter()
(y,) = g.run({x: np.ones(1000, np.float32)}, [0.5 * x * (1.0 + g.erf(x * 0.7071067811865476))], device="cuda")
elapsed = time.perf_counter() - started
assert abs(float(np.asarray(y)[0]) - 0.8413447) < 1e-6
loaded = any("libnvrtc" in line for line in open("/proc/self/maps"))
print(elapsed, int(loaded))
"""


def test_compiled_kernels_are_cached_on_disk(tmp_path):
    import subprocess
    import sys
    env = dict(__import__("os").environ, TENSORSTITCH_CACHE_DIR=str(tmp_path), TENSORSTITCH_WARM_CUDA="0")

    def probe():
        out = subprocess.run([sys.executable, "-c", CACHE_PROBE], env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        seconds, loaded = out.stdout.split()
        return float(seconds), loaded == "1"

    cold, cold_loaded = probe()
    assert cold_loaded and len(list(tmp_path.glob("sm_*.cubin"))) == 1
    warm, warm_loaded = probe()
    assert not warm_loaded, "a cached kernel must load without NVRTC"
    assert warm < cold


def test_async_runs_overlap_and_complete_from_the_stream():
    g = ts.Graph()
    x = g.placeholder((1 << 20,), ts.float32)
    exe = g.compile({x: ts.TensorType((1 << 20,), ts.float32)}, [g.reduce_sum(g.sin(x) * x)], device="cuda")
    feeds = [np.full(1 << 20, k / 7, np.float32) for k in range(8)]
    futures = [exe.run_async([f]) for f in feeds]  # all in flight at once
    for f, fut in zip(feeds, futures):
        want = float(np.sum(np.sin(f.astype(np.float64)) * f))
        assert abs(float(np.asarray(fut.result()[0])) - want) <= 1e-4 * max(1.0, abs(want))


def test_async_bad_index_fails_the_future_and_the_next_run_works():
    g = ts.Graph()
    x = g.placeholder((4,), ts.float32)
    i = g.placeholder((2,), ts.int64)
    exe = g.compile({x: ts.TensorType((4,), ts.float32), i: ts.TensorType((2,), ts.int64)}, [g.gather(x, i)],
                    device="cuda")
    xs = np.arange(4, dtype=np.float32)
    with pytest.raises(ts.ShapeError, match="gather.*index 9"):
        exe.run_async([xs, np.array([0, 9])]).result()
    np.testing.assert_array_equal(exe.run_async([xs, np.array([3, -4])]).result()[0], [3, 0])


def test_gpu_out_of_memory_is_a_device_error_and_the_process_goes_on():
    g = ts.Graph()
    x = g.placeholder((1,), ts.float32)
    huge = g.broadcast_to(x, (1 << 36,))  # 256 GiB
    with pytest.raises(ts.DeviceError, match="out of memory"):
        g.run({x: np.ones(1, np.float32)}, [huge], device="cuda")
    (y,) = g.run({x: np.ones(1, np.float32)}, [x * 3.0], device="cuda")
    assert np.asarray(y).tolist() == [3.0]


def test_dlpack_device_arrays_go_both_ways_without_copies():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("this PyTorch has no CUDA")
    t = torch.arange(6, dtype=torch.float32, device="cuda").reshape(2, 3) * 2
    a = ts.asarray(t)  # zero-copy: the same device memory
    assert a.device == ts.Device("cuda") and a._data_ptr() == t.data_ptr()
    g = ts.Graph()
    x = g.placeholder((2, 3), ts.float32)
    (y,) = g.run({x: t}, [x + 1.0], device="cuda")
    back = torch.from_dlpack(y)
    assert back.device.type == "cuda" and back.data_ptr() == y._data_ptr()
    torch.testing.assert_close(back, t + 1)
    with pytest.raises(ts.DeviceError, match="contiguous"):
        ts.asarray(t.t())


def test_tf32_is_a_compile_option_for_float32_matmuls():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(256, 512)).astype(np.float32), rng.normal(size=(512, 128)).astype(np.float32)
    want = a.astype(np.float64) @ b.astype(np.float64)
    errors = {}
    for tf32 in (False, True):
        g = ts.Graph()
        pa, pb = g.placeholder(a.shape), g.placeholder(b.shape)
        types = {pa: ts.TensorType(a.shape, ts.float32), pb: ts.TensorType(b.shape, ts.float32)}
        exe = g.compile(types, [pa @ pb], device="cuda", tf32=tf32)
        errors[tf32] = float(np.max(np.abs(np.asarray(exe.run([a, b])[0]) - want)))
    assert errors[False] < 1e-3  # true float32
    assert 1e-3 < errors[True] < 0.5  # products rounded to 10-bit mantissas
