"""Elementwise unary, binary and ternary ops against NumPy/SciPy in float64,
on random broadcast shapes (0-sized dims, rank 0, -1 dims), for every dtype
each op takes."""
import numpy as np
import pytest
import scipy.special as sp

import tensorstitch as ts
from helpers import ALL, FLOATS, INTS, NUMERIC, as_input, assert_close, broadcast_shapes, covers, run_graph, seed_of

# Domains: float64 samplers.
ANY = lambda r, s: r.normal(0, 2, s)
POS = lambda r, s: r.uniform(0.1, 4, s)
UNIT = lambda r, s: r.uniform(-0.95, 0.95, s)
GT1 = lambda r, s: r.uniform(1.1, 4, s)
GTM1 = lambda r, s: r.uniform(-0.9, 4, s)
SMALL = lambda r, s: r.uniform(-1.2, 1.2, s)
MID = lambda r, s: r.uniform(-5, 5, s)
NONZERO = lambda r, s: r.choice([-1, 1], s) * r.uniform(0.25, 3, s)
EXPONENT = lambda r, s: r.uniform(-2, 2, s)

# name: (reference, domain, kind). kind "float": float math (ints promote to
# float32); "numeric": keeps the dtype; "pred": bool result.
UNARY = {
    "negative": (np.negative, ANY, "numeric"), "abs": (np.abs, ANY, "numeric"), "sign": (np.sign, ANY, "numeric"),
    "square": (np.square, ANY, "numeric"), "floor": (np.floor, ANY, "numeric"), "ceil": (np.ceil, ANY, "numeric"),
    "round": (np.round, ANY, "numeric"), "relu": (lambda x: np.maximum(x, 0).astype(x.dtype), ANY, "numeric"),
    "square_root": (np.sqrt, POS, "float"), "reciprocal_square_root": (lambda x: 1 / np.sqrt(x), POS, "float"),
    "reciprocal": (np.reciprocal, NONZERO, "float"), "exp": (np.exp, MID, "float"), "exp2": (np.exp2, MID, "float"),
    "log": (np.log, POS, "float"), "log2": (np.log2, POS, "float"), "log1p": (np.log1p, GTM1, "float"),
    "expm1": (np.expm1, MID, "float"), "sin": (np.sin, ANY, "float"), "cos": (np.cos, ANY, "float"),
    "tan": (np.tan, SMALL, "float"), "asin": (np.arcsin, UNIT, "float"), "acos": (np.arccos, UNIT, "float"),
    "atan": (np.arctan, ANY, "float"), "sinh": (np.sinh, MID, "float"), "cosh": (np.cosh, MID, "float"),
    "tanh": (np.tanh, ANY, "float"), "asinh": (np.arcsinh, ANY, "float"), "acosh": (np.arccosh, GT1, "float"),
    "atanh": (np.arctanh, UNIT, "float"), "erf": (sp.erf, ANY, "float"), "sigmoid": (sp.expit, ANY, "float"),
    "gelu": (lambda x: 0.5 * x * (1 + sp.erf(x / np.sqrt(2))), ANY, "float"),
    "logical_not": (np.logical_not, ANY, "pred"), "is_nan": (np.isnan, ANY, "pred"),
    "is_inf": (np.isinf, ANY, "pred"), "is_finite": (np.isfinite, ANY, "pred"),
    "identity": (lambda x: x, ANY, "same"),
}

BINARY = {
    "add": (np.add, ANY, ANY, "arith"), "multiply": (np.multiply, ANY, ANY, "arith"),
    "maximum": (np.maximum, ANY, ANY, "arith"), "minimum": (np.minimum, ANY, ANY, "arith"),
    "subtract": (np.subtract, ANY, ANY, "numeric"), "floor_divide": (np.floor_divide, ANY, NONZERO, "numeric"),
    "modulo": (np.mod, ANY, NONZERO, "numeric"), "power": (np.power, POS, EXPONENT, "numeric"),
    "divide": (np.divide, ANY, NONZERO, "float"), "atan2": (np.arctan2, ANY, ANY, "float"),
    "equal": (np.equal, ANY, ANY, "pred"), "not_equal": (np.not_equal, ANY, ANY, "pred"),
    "less": (np.less, ANY, ANY, "pred"), "less_equal": (np.less_equal, ANY, ANY, "pred"),
    "greater": (np.greater, ANY, ANY, "pred"), "greater_equal": (np.greater_equal, ANY, ANY, "pred"),
    "logical_and": (np.logical_and, ANY, ANY, "pred"), "logical_or": (np.logical_or, ANY, ANY, "pred"),
    "logical_xor": (np.logical_xor, ANY, ANY, "pred"),
}

KIND_DTYPES = {"float": FLOATS + [ts.int32], "numeric": NUMERIC, "pred": ALL, "same": ALL, "arith": ALL}


def int_values(rng, domain, shape, dt):
    """Integers from a domain, kept in range of ``dt`` and away from what the
    domain excludes (zero divisors, negative exponents)."""
    v = np.asarray(np.round(domain(rng, shape) * 3))
    if domain in (POS, GT1):
        v = np.abs(v) + 1
    if domain is NONZERO:
        v[v == 0] = 1
    if domain is EXPONENT:
        v = np.abs(v) % 4
    if dt == ts.uint8:
        v = np.abs(v)
    return v


def sample(rng, domain, shape, dt):
    if dt == ts.bool:
        return rng.random(shape) < 0.5
    if dt in INTS:
        return int_values(rng, domain, shape, dt)
    return domain(rng, shape)


def reference(ref, exact_inputs, dt, kind):
    """NumPy's answer in float64 (floats), or in the op's own integer type."""
    with np.errstate(all="ignore"):
        if kind == "float" and dt not in FLOATS:
            return ref(*[x.astype(np.float64) for x in exact_inputs])
        out = ref(*exact_inputs)
    return np.asarray(out)


def result_dtype(dt, kind):
    if kind == "pred":
        return ts.bool
    if kind == "float" and dt not in FLOATS:
        return ts.float32
    return dt


CASES = [(name, dt) for name, (_, _, kind) in UNARY.items() for dt in KIND_DTYPES[kind]
         if not (kind == "numeric" and dt == ts.bool)]


@pytest.mark.parametrize("name,dt", CASES, ids=[f"{n}-{d.name}" for n, d in CASES])
def test_unary(name, dt):
    covers(name)
    ref, domain, kind = UNARY[name]
    rng = np.random.default_rng(seed_of(name, dt.name))
    for trial in range(4):
        shape = broadcast_shapes(rng, 1, rank=0 if trial == 0 else None)[0]
        feed, exact = as_input(sample(rng, domain, shape, dt), dt)
        got = run_graph(lambda g, x: getattr(g, name)(x), [feed], rng)
        want = reference(ref, [exact], dt, kind)
        assert_close(got, want, result_dtype(dt, kind), f"{name} {dt.name} {shape}")


BCASES = [(name, dt) for name, (_, _, _, kind) in BINARY.items() for dt in KIND_DTYPES[kind]]


@pytest.mark.parametrize("name,dt", BCASES, ids=[f"{n}-{d.name}" for n, d in BCASES])
def test_binary(name, dt):
    covers(name)
    ref, da, db, kind = BINARY[name]
    rng = np.random.default_rng(seed_of(name, dt.name, 2))
    for trial in range(4):
        sa, sb = broadcast_shapes(rng, 2, rank=0 if trial == 0 else None)
        fa, ea = as_input(sample(rng, da, sa, dt), dt)
        fb, eb = as_input(sample(rng, db, sb, dt), dt)
        if name == "power" and dt in FLOATS:
            fa, ea = as_input(np.abs(ea) + 0.25, dt)
        got = run_graph(lambda g, a, b: getattr(g, name)(a, b), [fa, fb], rng)
        want = reference(ref, [ea, eb], dt, "float" if kind == "float" else kind)
        assert_close(got, want, result_dtype(dt, "float" if kind == "float" else kind), f"{name} {dt.name} {sa} {sb}")


@covers("select")
@pytest.mark.parametrize("dt", ALL, ids=lambda d: d.name)
def test_select(dt):
    rng = np.random.default_rng(7)
    for _ in range(4):
        sc, sa, sb = broadcast_shapes(rng, 3)
        cond = rng.random(sc) < 0.5
        fa, ea = as_input(sample(rng, ANY, sa, dt), dt)
        fb, eb = as_input(sample(rng, ANY, sb, dt), dt)
        got = run_graph(lambda g, c, a, b: g.select(c, a, b), [cond, fa, fb], rng)
        assert_close(got, np.where(cond, ea, eb), dt)


@covers("clamp")
@pytest.mark.parametrize("dt", NUMERIC, ids=lambda d: d.name)
def test_clamp(dt):
    rng = np.random.default_rng(8)
    for _ in range(4):
        sx, sl = broadcast_shapes(rng, 2)
        fx, ex = as_input(sample(rng, ANY, sx, dt), dt)
        fl, el = as_input(sample(rng, ANY, sl, dt) - 2 * (dt != ts.uint8), dt)
        fh, eh = as_input(np.asarray(el, np.float64) + 3, dt)
        got = run_graph(lambda g, x, lo, hi: g.clamp(x, lo, hi), [fx, fl, fh], rng)
        assert_close(got, np.minimum(np.maximum(ex, el), eh), dt)


@covers("cast")
@pytest.mark.parametrize("src", ALL, ids=lambda d: d.name)
@pytest.mark.parametrize("dst", ALL, ids=lambda d: d.name)
def test_cast(src, dst):
    rng = np.random.default_rng(9)
    shape = broadcast_shapes(rng, 1)[0]
    values = np.abs(sample(rng, ANY, shape, src)) if dst == ts.uint8 else sample(rng, ANY, shape, src)
    if src in FLOATS and dst in INTS:
        values = np.clip(values, -100, 100)
    feed, exact = as_input(values, src)
    got = run_graph(lambda g, x: g.cast(x, dst), [feed], rng)
    if dst == ts.bfloat16:
        want = as_input(np.asarray(exact, np.float64).astype(np.float32), dst)[1]
    else:
        want = np.asarray(exact).astype(np.float32 if dst == ts.bfloat16 else ts._dtypes.to_numpy_dtype(dst))
    assert_close(got, want, dst)


def test_promotion_and_weak_scalars():
    g = ts.Graph()
    i32 = g.placeholder((2,), ts.int32)
    f32 = g.placeholder((2,), ts.float32)
    f16 = g.placeholder((2,), ts.float16)
    bf16 = g.placeholder((2,), ts.bfloat16)
    i8 = g.placeholder((2,), ts.int8)
    u8 = g.placeholder((2,), ts.uint8)
    assert (i32 + f32).dtype == ts.float32
    assert (f16 + bf16).dtype == ts.float32
    assert (i8 + u8).dtype == ts.int32
    assert (f16 * 2.5).dtype == ts.float16  # Python scalars take the tensor's dtype
    assert (i32 * 2).dtype == ts.int32
    assert (i32 * 2.5).dtype == ts.float32
    assert (i32 / i32).dtype == ts.float32
    assert (f32 + np.float64(1)).dtype == ts.float64  # NumPy values keep theirs
    assert g.exp(i32).dtype == ts.float32
    assert (f32 < 1).dtype == ts.bool


def test_nan_and_inf_propagate():
    x = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    got = run_graph(lambda g, a: [g.exp(a), g.maximum(a, 0.0), g.relu(a), a * 0.0, g.is_nan(a), g.sign(a)], [x])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(got[0], np.exp(x), rtol=1e-6)
        np.testing.assert_array_equal(got[1], np.maximum(x, 0))
        np.testing.assert_array_equal(got[2], np.maximum(x, 0))
        np.testing.assert_array_equal(got[3], x * 0)
    np.testing.assert_array_equal(got[4], np.isnan(x))
    np.testing.assert_array_equal(got[5], np.sign(x))


def test_integer_edge_cases_do_not_crash():
    a = np.array([np.iinfo(np.int32).min, 7, -7, 5], np.int32)
    b = np.array([-1, 0, 2, -3], np.int32)
    fd, md = run_graph(lambda g, x, y: [g.floor_divide(x, y), g.modulo(x, y)], [a, b])
    assert fd.tolist() == [np.iinfo(np.int32).min, 0, -4, -2]
    assert md.tolist() == [0, 0, 1, -1]
