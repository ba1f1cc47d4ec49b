"""Regression tests for defects found by attacking the core from outside
(random-graph differential fuzzing, misuse fuzzing, stress tests). Each test
is named after the defect it pins down and failed before its fix."""
import ctypes
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tensorstitch as ts

BOTH = pytest.mark.parametrize("fusion", ["1", "0"], ids=["fused", "unfused"])


def run1(g, feeds, t):
    return np.asarray(g.run(feeds, [t])[0])


# ---- crashes and wrong results ----

@BOTH
def test_matmul_epilogue_that_reads_the_matmul_operand(fusion, monkeypatch):
    monkeypatch.setenv("TENSORSTITCH_FUSION", fusion)
    rng = np.random.default_rng(0)
    g = ts.Graph()
    x = g.placeholder((3, 3), ts.float32)
    e = g.exp(x)
    xv = rng.normal(size=(3, 3)).astype(np.float32)
    ev = np.exp(xv.astype(np.float64))
    np.testing.assert_allclose(run1(g, {x: xv}, g.matmul(e, e) + e), ev @ ev + ev, rtol=1e-5)
    h = g.relu(x)  # the residual connection: h @ W + h
    w = g.constant(rng.normal(size=(3, 3)).astype(np.float32))
    hv = np.maximum(xv, 0).astype(np.float64)
    np.testing.assert_allclose(run1(g, {x: xv}, h @ w + h), hv @ np.asarray(g.run({}, [w])[0]) + hv, rtol=1e-5)


def test_integer_matmul_transposed_over_several_row_panels():
    rng = np.random.default_rng(1)
    a = rng.integers(-50, 50, (3, 100)).astype(np.int32)
    b = rng.integers(-50, 50, (3, 4096)).astype(np.int32)
    g = ts.Graph()
    pa, pb = g.placeholder(a.shape, ts.int32), g.placeholder(b.shape, ts.int32)
    np.testing.assert_array_equal(run1(g, {pa: a, pb: b}, g.matmul(pa, pb, transpose_a=True)), a.T @ b)
    bt = g.placeholder((4096, 3), ts.int32)
    np.testing.assert_array_equal(run1(g, {pa: a, bt: b.T.copy()}, g.matmul(pa, bt, transpose_a=True, transpose_b=True)),
                                  a.T @ b)


@pytest.mark.parametrize("build", [
    lambda g: g.reshape(g.placeholder((4,)), (2**62 + 1, 4)),
    lambda g: g.tile(g.placeholder((3,)), [6148914691236517206]),
    lambda g: g.pad(g.placeholder((4,)), [(2**62, 2**62)]),
    lambda g: g.pad(g.placeholder((4,)), [(2**63 - 1, 1)]),
    lambda g: g.broadcast_to(g.placeholder(()), (2**40, 2**40)),
    lambda g: g.concat([g.placeholder((2**62,), ts.bool), g.placeholder((2**62,), ts.bool)], 0),
], ids=["reshape", "tile", "pad", "pad_int64_max", "broadcast_to", "concat"])
def test_overflowing_shapes_are_refused(build):
    with pytest.raises(ts.ShapeError, match="overflow|not representable"):
        build(ts.Graph())


def test_overflowing_shape_found_only_at_run_time_is_refused():
    g = ts.Graph()
    x = g.placeholder((-1,))
    y = g.tile(x, [2**62])
    with pytest.raises(ts.ShapeError, match="overflow"):
        g.run({x: np.ones(8, np.float32)}, [y])


@pytest.mark.parametrize("dtype", [">f4", ">i4", ">f8", ">i8"])
def test_big_endian_arrays_are_converted(dtype):
    values = np.arange(5).astype(dtype)
    want = np.arange(5) * 2
    g = ts.Graph()
    x = g.placeholder((5,), np.dtype(dtype).newbyteorder("="))
    np.testing.assert_array_equal(run1(g, {x: values}, x * 2), want)
    np.testing.assert_array_equal(run1(g, {}, g.constant(values) * 2), want)
    v = g.variable(values)
    np.testing.assert_array_equal(run1(g, {}, v * 2), want)
    np.testing.assert_array_equal(np.asarray(ts.asarray(values)), np.arange(5))


def test_cse_keeps_pads_with_different_fill_values_apart():
    g = ts.Graph()
    x = g.placeholder((1,))
    a = g.pad(x, [(1, 0)], value=1234567.0)
    b = g.pad(x, [(1, 0)], value=1234568.0)
    z = g.pad(x, [(1, 0)], value=-0.0)
    ra, rb, rz = g.run({x: np.zeros(1, np.float32)}, [a, b, z])
    assert np.asarray(ra)[0] == 1234567.0 and np.asarray(rb)[0] == 1234568.0
    assert np.signbit(np.asarray(rz)[0])


def test_reduce_prod_gradient_is_exact_at_zeros():
    g = ts.Graph()
    x = g.placeholder((-1,), ts.float64)
    grad = g.gradients(g.reduce_prod(x), [x])[x]
    for values, want in [([0.0, 2.0, 3.0], [6.0, 0.0, 0.0]), ([0.0, 0.0, 3.0], [0.0, 0.0, 0.0]),
                         ([1.0, 2.0, 3.0], [6.0, 3.0, 2.0]), ([-0.0, 5.0], [5.0, 0.0])]:
        np.testing.assert_array_equal(run1(g, {x: np.array(values)}, grad), want)
    m = g.placeholder((2, 3), ts.float64)
    gm = g.gradients(g.reduce_prod(m, 1), [m])[m]
    got = run1(g, {m: np.array([[0.0, 2.0, 3.0], [1.0, 2.0, 4.0]])}, gm)
    np.testing.assert_array_equal(got, [[6.0, 0.0, 0.0], [8.0, 4.0, 2.0]])


def test_clamp_gradient_follows_the_selected_value_when_lo_exceeds_hi():
    g = ts.Graph()
    x = g.placeholder((3,), ts.float64)
    lo, hi = g.placeholder((), ts.float64), g.placeholder((), ts.float64)
    y = g.clamp(x, lo, hi)
    grads = g.gradients(y, [x, lo, hi])
    feeds = {x: np.array([0.0, 2.0, 3.0]), lo: np.array(2.0), hi: np.array(1.0)}
    np.testing.assert_array_equal(run1(g, feeds, y), [1.0, 1.0, 1.0])  # every output is hi
    assert run1(g, feeds, grads[hi]) == 3.0
    assert run1(g, feeds, grads[lo]) == 0.0
    np.testing.assert_array_equal(run1(g, feeds, grads[x]), [0.0, 0.0, 0.0])


ZERO_SIGN_OPS = {"negative": np.negative, "abs": np.abs, "tanh": np.tanh, "sin": np.sin, "tan": np.tan,
                 "asin": np.arcsin, "atan": np.arctan, "sinh": np.sinh, "asinh": np.arcsinh, "atanh": np.arctanh,
                 "expm1": np.expm1, "log1p": np.log1p, "erf": None, "floor": np.floor, "ceil": np.ceil,
                 "round": np.round, "square_root": np.sqrt, "relu": lambda v: np.maximum(v, 0), "sign": np.sign,
                 "square": np.square, "gelu": None, "reciprocal": np.reciprocal}


@BOTH
@pytest.mark.parametrize("dt", [ts.float16, ts.bfloat16, ts.float32, ts.float64], ids=str)
def test_signed_zeros(fusion, monkeypatch, dt):
    monkeypatch.setenv("TENSORSTITCH_FUSION", fusion)
    import scipy.special as sp
    refs = dict(ZERO_SIGN_OPS, erf=sp.erf, gelu=lambda v: 0.5 * v * (1 + sp.erf(v / np.sqrt(2))))
    zeros = np.array([-0.0, 0.0])
    g = ts.Graph()
    x = g.placeholder((2,), dt)
    feed = ts.asarray(zeros, dtype=dt)
    for op, ref in refs.items():
        with np.errstate(divide="ignore"):
            want = ref(zeros)
        got = g.run({x: feed}, [getattr(g, op)(x)])[0].numpy().astype(np.float64)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=op)
    # the example: 1/(-x) at x = 0 is -inf
    assert g.run({x: feed}, [1 / -x])[0].numpy().astype(np.float64).tolist() == [np.inf, -np.inf]


def test_slice_with_huge_steps():
    g = ts.Graph()
    x = g.placeholder((5,))
    xv = np.arange(5, dtype=np.float32)
    for key in [slice(0, 5, 2**63 - 1), slice(4, 0, -(2**63)), slice(None, None, 2**63 - 1),
                slice(None, None, -(2**63)), slice(-1, -6, -(2**62))]:
        np.testing.assert_array_equal(run1(g, {x: xv}, x[key]), xv[key], err_msg=str(key))


@pytest.mark.parametrize("dt,np_dt", [(ts.int32, np.int32), (ts.int8, np.int8), (ts.uint8, np.uint8),
                                      (ts.bool, np.bool_)], ids=str)
def test_integer_sums_and_products_accumulate_in_int64(dt, np_dt):
    info = np.iinfo(np_dt) if np_dt is not np.bool_ else None
    values = np.array([info.max, 1, 1] if info else [True, True, True], np_dt)
    g = ts.Graph()
    x = g.placeholder((3,), dt)
    s, p = g.reduce_sum(x), g.reduce_prod(x + x)
    assert s.dtype == ts.int64 and p.dtype == ts.int64
    assert run1(g, {x: values}, s) == np.sum(values, dtype=np.int64)
    want = np.prod((values + values) if np_dt is not np.bool_ else values.astype(np.int64), dtype=np.int64)
    assert run1(g, {x: values}, p) == want


@pytest.mark.parametrize("dt,value", [(ts.int32, 2**40), (ts.int32, -(2**31) - 1), (ts.uint8, 256),
                                      (ts.uint8, -1), (ts.int8, 128), (ts.int64, 2**63)], ids=str)
def test_python_int_out_of_range_for_the_operand(dt, value):
    g = ts.Graph()
    x = g.placeholder((3,), dt)
    with pytest.raises(ts.DTypeError, match=rf"{value}.*{dt.name}"):
        x + value
    with pytest.raises(ts.DTypeError, match=rf"{value}.*{dt.name}"):
        g.constant(value, dt)


# ---- memory and aliasing ----

def _rss_script(body):
    """Runs ``body`` in a fresh interpreter; it prints a number we read back.
    On the CPU: these measure the host's caches (a GPU's driver and compiler
    would add their own resident memory)."""
    env = dict(os.environ, TENSORSTITCH_NUM_THREADS="2", TENSORSTITCH_DEVICE="cpu")
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(body)], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return float(out.stdout.split()[-1])


# AddressSanitizer keeps freed memory in quarantine, so RSS says nothing there.
MEASURES_RSS = pytest.mark.skipif(not os.path.exists("/proc/self/statm") or "libasan" in os.environ.get("LD_PRELOAD", ""),
                                  reason="needs /proc and an uninstrumented allocator")

RSS = """
import gc, numpy as np, tensorstitch as ts
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20
"""


@MEASURES_RSS
def test_graphs_run_once_and_dropped_are_freed():
    grown = _rss_script(RSS + """
def once():
    g = ts.Graph()
    v = g.variable(np.ones(1 << 20, np.float32))       # 4 MB
    c = g.constant(np.ones(1 << 20, np.float32))       # 4 MB
    x = g.placeholder((-1,))
    g.run({x: np.ones(4, np.float32)}, [x + 1, g.reduce_sum(v + c)])
once(); gc.collect()
base = rss_mb()
for _ in range(25):
    once()
gc.collect()
print(rss_mb() - base)
""")
    assert grown < 40, f"RSS grew by {grown:.0f} MB after dropping 25 graphs of 8 MB each"


@MEASURES_RSS
def test_per_shape_plan_cache_is_bounded():
    grown = _rss_script(RSS + """
g = ts.Graph()
x = g.placeholder((-1, 4))
y = g.exp(x) * 2
for n in range(1, 50): g.run({x: np.ones((n, 4), np.float32)}, [y])
base = rss_mb()
for n in range(50, 3050): g.run({x: np.ones((n, 4), np.float32)}, [y])
print(rss_mb() - base)
""")
    assert grown < 60, f"RSS grew by {grown:.0f} MB over 3000 batch sizes"


@MEASURES_RSS
def test_host_cache_is_capped_and_gives_memory_back():
    env_cap = """
import os; os.environ["TENSORSTITCH_HOST_CACHE_MB"] = "64"
"""
    grown = _rss_script(env_cap + RSS + """
g = ts.Graph()
x = g.placeholder((-1,))
y = g.exp(x) + 1
base = rss_mb()
rng = np.random.default_rng(0)
for n in rng.integers(1 << 18, 17 << 18, 250):     # 1 to 17 MB of float32, distinct shapes
    g.run({x: np.ones(int(n), np.float32)}, [y])
gc.collect()
print(rss_mb() - base)
""")
    assert grown < 64 + 80, f"RSS stayed {grown:.0f} MB higher after 250 runs of distinct 1-17 MB shapes"


def test_outputs_never_alias_graph_state_writably(monkeypatch):
    monkeypatch.setenv("TENSORSTITCH_DEVICE", "cpu")  # writes through host pointers
    g = ts.Graph()
    c = g.constant(np.ones(3, np.float32))
    v = g.variable(np.ones(3, np.float32))
    x = g.placeholder((3,))
    for target in (c, v, g.reshape(c, (3,)), g.reshape(v, (1, 3)), x):
        feed = np.ones(3, np.float32)
        out = g.run({x: feed}, [target])[0]
        # A DLPack consumer that writes (as torch.from_dlpack(out)[0] = 5 does).
        shared = ts.NDArray._from_dlpack(out.__dlpack__())
        ctypes.c_float.from_address(shared._data_ptr()).value = 5.0
        assert np.asarray(out).ravel()[0] == 5  # the caller's own result changed, nothing else
        assert feed[0] == 1
    np.testing.assert_array_equal(run1(g, {}, c), [1, 1, 1])
    np.testing.assert_array_equal(run1(g, {}, v), [1, 1, 1])
    np.testing.assert_array_equal(np.asarray(g.variable_value(v)), [1, 1, 1])


# ---- valid graphs refused ----

def test_broadcast_to_a_size_one_dim_from_a_run_time_dim():
    g = ts.Graph()
    x = g.placeholder((-1, 3))
    y = g.broadcast_to(x, (2, 1, 3))
    assert y.shape == (2, 1, 3)
    np.testing.assert_array_equal(run1(g, {x: np.arange(3, dtype=np.float32)[None]}, y),
                                  np.broadcast_to(np.arange(3)[None], (2, 1, 3)))
    with pytest.raises(ts.ShapeError, match="broadcast"):
        g.run({x: np.ones((2, 3), np.float32)}, [y])
    with pytest.raises(ts.ShapeError, match="broadcast"):
        g.broadcast_to(g.placeholder((2, 3)), (2, 1, 3))


def test_unranked_squeeze_has_gradients():
    g = ts.Graph()
    x = g.placeholder((-1, 3), ts.float64)
    s = g.squeeze(x)
    y = g.reduce_sum(s * s)
    for axes in (None, [0], [-1]):
        grad = g.gradients(g.reduce_mean(s, axes) if axes else y, [x])[x]
        xv = np.arange(3.0)[None]
        got = run1(g, {x: xv}, grad)
        want = 2 * xv if axes is None else np.full((1, 3), 1.0 / 3)
        np.testing.assert_allclose(got, want, err_msg=str(axes))


def test_split_and_ellipsis_indexing_of_unranked_tensors():
    g = ts.Graph()
    u = g.placeholder(None)
    xv = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    parts = g.split(u, 2, axis=0)
    sizes = g.split(u, [1, 2], axis=1)
    got = g.run({u: xv}, parts + sizes)
    for a, b in zip(got, np.split(xv, 2, 0) + np.split(xv, [1], 1)):
        np.testing.assert_array_equal(np.asarray(a), b)
    for key in [(Ellipsis, 1), (Ellipsis, None, slice(0, 2)), (0, Ellipsis, -1), (Ellipsis, slice(None, None, -1), 0),
                (None, 1, Ellipsis), (Ellipsis,)]:
        np.testing.assert_array_equal(run1(g, {u: xv}, u[key]), xv[key], err_msg=str(key))
    with pytest.raises(ts.ShapeError):
        g.run({u: np.ones(3, np.float32)}, [u[..., 0, 0]])


# ---- errors of the wrong kind ----

@pytest.mark.parametrize("call,error,pattern", [
    (lambda g, x: g.matmul(x, x, transpose_a=(0, 2)), TypeError, "matmul.*transpose_a"),
    (lambda g, x: g.sort(x, float("inf")), TypeError, "sort.*axis"),
    (lambda g, x: g.placeholder((2**70,)), ts.ShapeError, "placeholder.*shape"),
    (lambda g, x: g.split(x, 2**40), ts.ShapeError, "split.*pieces"),
    (lambda g, x: g.placeholder((1.5, 2)), TypeError, "placeholder.*shape"),
    (lambda g, x: g.compile({x: ts.TensorType((2, 2), ts.float32)}, [x]).explain({}), ts.FeedError,
     "explain.*missing"),
    (lambda g, x: g.reshape(x, (2.5, 2)), TypeError, "reshape.*shape"),
    (lambda g, x: g.reduce_sum(x, "a"), TypeError, "reduce_sum.*axes"),
    (lambda g, x: g.top_k(x, None), ts.GraphError, "top_k.*k"),
    (lambda g, x: g.sort(x, descending="yes"), TypeError, "sort.*descending"),
    (lambda g, x: x[1.5], TypeError, "index"),
    (lambda g, x: x[:: 2**64], ts.ShapeError, "step"),
], ids=["transpose_a", "sort_inf", "huge_dim", "split_huge", "float_dim", "explain_empty", "reshape_float",
        "axes_str", "top_k_none", "descending_str", "float_index", "huge_step"])
def test_bad_argument_types_raise_clear_errors(call, error, pattern):
    g = ts.Graph()
    x = g.placeholder((2, 2), ts.float32)
    with pytest.raises(error, match=pattern):
        call(g, x)


@pytest.mark.parametrize("mode", ["reflect", "symmetric"])
def test_huge_reflecting_pads_neither_hang_nor_err(mode):
    """Reflection indices are computed in O(1): a million-element pad of a
    two-element vector once took about 5e11 steps."""
    script = textwrap.dedent(f"""
        import numpy as np, tensorstitch as ts
        g = ts.Graph(); x = g.placeholder((2,))
        v = np.array([1.0, 2.0], np.float32)
        y = g.run({{x: v}}, [g.pad(x, [(10**6, 5)], "{mode}")])[0].numpy()
        assert (y == np.pad(v, [(10**6, 5)], "{mode}")).all()
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
