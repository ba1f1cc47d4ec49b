"""The backend-neutral core as seen from outside: runs that allocate only
their outputs, integer and narrow-float chains fused exactly as the unfused
ops compute them, compiles that do not block other signatures, and variable
commits without copies."""

import threading

import numpy as np
import pytest

import tensorstitch as ts
from tensorstitch import _core


TS = {np.int8: ts.int8, np.uint8: ts.uint8, np.int32: ts.int32, np.int64: ts.int64}


def kernel_count(exe):
    return sum(1 for kind, _ in exe._exe.steps() if kind == "kernel")


def allocations_per_run(exe, feeds, runs=20):
    exe.run(feeds)  # compiles and warms up
    before = _core._host_allocations()
    for _ in range(runs):
        exe.run(feeds)
    return (_core._host_allocations() - before) / runs


def test_a_fused_run_allocates_its_outputs_and_one_arena():
    g = ts.Graph()
    x = g.placeholder((256, 300), ts.float32)
    h = g.exp(x) * 2.0 + 1.0
    y = g.reduce_sum(h * h, axes=[1])  # an intermediate lives in the arena
    z = g.tanh(y)
    exe = g.compile({x: ts.TensorType((256, 300), ts.float32)}, [y, z])
    xv = np.random.default_rng(0).normal(size=(256, 300)).astype(np.float32)
    assert allocations_per_run(exe, [xv]) <= 2 + 1


def test_a_matmul_epilogue_run_allocates_its_output_and_one_arena():
    g = ts.Graph()
    a = g.placeholder((64, 32), ts.float32)
    w = g.constant(np.random.default_rng(1).normal(size=(32, 48)).astype(np.float32))
    b = g.constant(np.random.default_rng(2).normal(size=(48,)).astype(np.float32))
    y = g.gelu(g.matmul(a, w) + b)
    exe = g.compile({a: ts.TensorType((64, 32), ts.float32)}, [y])
    assert kernel_count(exe) == 1
    assert allocations_per_run(exe, [np.ones((64, 32), np.float32)]) <= 1 + 1


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64])
def test_integer_chains_fuse_and_wrap_like_numpy(dtype):
    rng = np.random.default_rng(3)
    info = np.iinfo(dtype)
    av = rng.integers(info.min, info.max, (5, 7), dtype=dtype, endpoint=True)
    bv = rng.integers(info.min, info.max, (5, 7), dtype=dtype, endpoint=True)
    bv[bv == 0] = 3
    g = ts.Graph()
    a, b = g.placeholder((5, 7), TS[dtype]), g.placeholder((5, 7), TS[dtype])
    y = g.select(g.less((a + b) * b, a), g.floor_divide(a, b) - a, g.modulo(b * b, a + 1))
    exe = g.compile({a: ts.TensorType((5, 7), TS[dtype]), b: ts.TensorType((5, 7), TS[dtype])}, [y])
    assert kernel_count(exe) == 1
    with np.errstate(all="ignore"):
        want = np.where((av + bv) * bv < av, av // bv - av, (bv * bv) % (av + dtype(1)))
    np.testing.assert_array_equal(np.asarray(exe.run([av, bv])[0]), want)


def test_bool_chain_fuses():
    rng = np.random.default_rng(4)
    pv, qv = rng.random((6, 5)) < 0.5, rng.random((6, 5)) < 0.5
    g = ts.Graph()
    p, q = g.placeholder((6, 5), ts.bool), g.placeholder((6, 5), ts.bool)
    y = g.logical_xor(g.logical_and(p, q), g.logical_not(p)) + q  # bool + bool: or
    exe = g.compile({p: ts.TensorType((6, 5), ts.bool), q: ts.TensorType((6, 5), ts.bool)}, [y])
    assert kernel_count(exe) == 1
    np.testing.assert_array_equal(np.asarray(exe.run([pv, qv])[0]), ((pv & qv) ^ ~pv) | qv)


@pytest.mark.parametrize("dtype", [ts.float16, ts.bfloat16])
def test_narrow_float_chains_fused_equal_unfused_bit_for_bit(dtype, monkeypatch):
    rng = np.random.default_rng(5)
    xv = rng.normal(size=(9, 33)).astype(np.float32)
    nv = rng.integers(-3000, 3000, (9, 33)).astype(np.int32)

    def run(fusion):
        monkeypatch.setenv("TENSORSTITCH_FUSION", fusion)
        g = ts.Graph()
        x = g.placeholder((9, 33), dtype)
        n = g.placeholder((9, 33), ts.int32)
        y = g.sigmoid(g.exp(x) * 3.0 - x) + g.less(n, x)  # an int compared in the narrow type
        exe = g.compile({x: ts.TensorType((9, 33), dtype), n: ts.TensorType((9, 33), ts.int32)}, [y])
        return kernel_count(exe), np.asarray(exe.run([ts.asarray(xv, dtype=dtype), nv])[0]).view(np.uint16)

    fused_kernels, fused = run("1")
    unfused_kernels, unfused = run("0")
    assert fused_kernels == 1 and unfused_kernels > 1
    np.testing.assert_array_equal(fused, unfused)


def test_signatures_compile_concurrently_once_each():
    g = ts.Graph()
    x = g.placeholder((-1, 8), ts.float32)
    y = g.reduce_sum(g.exp(x) * 2.0, axes=[1])
    exe = g.compile({x: ts.TensorType((-1, 8), ts.float32)}, [y])
    errors = []

    def worker(rows):
        try:
            for _ in range(5):
                xv = np.full((rows, 8), 0.5, np.float32)
                np.testing.assert_allclose(np.asarray(exe.run([xv])[0]), np.full(rows, 16 * np.exp(0.5)), rtol=1e-5)
        except Exception as e:  # reported below: a thread's assertion would be lost
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(1 + i % 4,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    text = exe.explain()
    for rows in range(1, 5):
        assert text.count(f"signature float32({rows}, 8)") == 1


def test_variable_commit_keeps_the_run_buffer_and_copies_borrowed_values():
    g = ts.Graph()
    w = g.variable(np.zeros(4, np.float32))
    x = g.placeholder((4,), ts.float32)
    step = g.assign(w, w - x * 0.5)
    feed = g.placeholder((4,), ts.float32)
    set_w = g.assign(w, feed)
    g.run({x: np.ones(4, np.float32)}, [], [step])
    np.testing.assert_array_equal(g.variable_value(w), np.full(4, -0.5, np.float32))
    fv = np.arange(4, dtype=np.float32)
    g.run({feed: fv}, [], [set_w])
    fv[:] = 99  # the caller's array: the variable holds a copy
    np.testing.assert_array_equal(g.variable_value(w), np.arange(4, dtype=np.float32))
    out, = g.run({x: np.ones(4, np.float32)}, [w - x * 0.5], [step])
    np.testing.assert_array_equal(np.asarray(out), np.arange(4) - 0.5)
    np.testing.assert_array_equal(g.variable_value(w), np.arange(4) - 0.5)


def test_equal_kernels_compile_once_and_errors_name_their_own_op():
    """Layers of one shape share their compiled kernels; an error in a shared
    kernel still names the op that failed."""
    rng = np.random.default_rng(6)
    g = ts.Graph()
    x = g.placeholder((8, 16), ts.float32)
    w = g.constant(rng.normal(size=(16, 16)).astype(np.float32))
    h = x
    for _ in range(30):
        h = g.tanh(g.matmul(h, w) * 0.5 + 1.0)
    before = ts._core._kernel_compiles()
    exe = g.compile({x: ts.TensorType((8, 16), ts.float32)}, [h])
    assert kernel_count(exe) == 30
    assert ts._core._kernel_compiles() - before == 1  # one distinct kernel
    want = rng.normal(size=(8, 16)).astype(np.float32)
    hv = want.astype(np.float64)
    for _ in range(30):
        hv = np.tanh(hv @ np.asarray(g.run({}, [w])[0], np.float64) * 0.5 + 1.0)
    np.testing.assert_allclose(np.asarray(exe.run([want])[0]), hv, rtol=1e-4, atol=1e-5)

    table = g.constant(np.arange(10, dtype=np.float32))
    i, j = g.placeholder((3,), ts.int32, name="i"), g.placeholder((3,), ts.int32, name="j")
    first, second = g.gather(table, i, name="first"), g.gather(table, j, name="second")
    ok, bad = np.array([0, 1, 2], np.int32), np.array([0, 1, 12], np.int32)
    with pytest.raises(ts.ShapeError, match="second"):
        g.run({i: ok, j: bad}, [first, second])


def test_profile_reports_each_kernel():
    g = ts.Graph()
    x = g.placeholder((256, 300), ts.float32)
    y = g.tanh(x * 2.0 + 1.0)
    s = g.reduce_sum(g.exp(x), axes=[1])
    exe = g.compile({x: ts.TensorType((256, 300), ts.float32)}, [y, s])
    prof = exe.profile([np.ones((256, 300), np.float32)])
    assert len(prof.kernels) == kernel_count(exe) == 2
    by_ops = {tuple(k["ops"]): k for k in prof.kernels}
    ew = by_ops[("multiply", "add", "tanh")]
    assert ew["bytes"] == 256 * 300 * 4 * 2 + 4 * 2  # x in, y out, two scalars
    assert ew["flops"] == 256 * 300 * 3 and ew["seconds"] > 0 and 0 < ew["fraction"]
    assert prof.copy_bandwidth > 1e8 and "reduce_sum" in str(prof)
