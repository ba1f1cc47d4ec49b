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

# Each op declares its input dtypes and value domains (ops/*.cpp); the
# tests enumerate the registry and take only the reference from here, so an
# elementwise op without a reference fails test_every_elementwise_op_has_a_reference.
SAMPLERS = {"real": ANY, "positive": POS, "unit": UNIT, "above_one": GT1, "above_minus_one": GTM1,
            "nonzero": NONZERO, "exponent": EXPONENT, "moderate": MID, "small": SMALL}
REFERENCE = {
    "negative": np.negative, "abs": np.abs, "sign": np.sign, "square": np.square, "floor": np.floor,
    "ceil": np.ceil, "round": np.round, "relu": lambda x: np.maximum(x, 0).astype(x.dtype),
    "square_root": np.sqrt, "reciprocal_square_root": lambda x: 1 / np.sqrt(x), "reciprocal": np.reciprocal,
    "exp": np.exp, "exp2": np.exp2, "log": np.log, "log2": np.log2, "log1p": np.log1p, "expm1": np.expm1,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh,
    "atanh": np.arctanh, "erf": sp.erf, "sigmoid": sp.expit, "gelu": lambda x: 0.5 * x * (1 + sp.erf(x / np.sqrt(2))),
    "logical_not": np.logical_not, "is_nan": np.isnan, "is_inf": np.isinf, "is_finite": np.isfinite,
    "identity": lambda x: x, "stop_gradient": lambda x: x,
    "add": np.add, "multiply": np.multiply, "maximum": np.maximum, "minimum": np.minimum, "subtract": np.subtract,
    "floor_divide": np.floor_divide, "modulo": np.mod, "power": np.power, "divide": np.divide,
    "atan2": np.arctan2, "equal": np.equal, "not_equal": np.not_equal, "less": np.less,
    "less_equal": np.less_equal, "greater": np.greater, "greater_equal": np.greater_equal,
    "logical_and": np.logical_and, "logical_or": np.logical_or, "logical_xor": np.logical_xor,
}
# Tested below with their own references (a condition input, attributes).
OWN_TESTS = {"select", "clamp", "cast"}
INFO = {n: ts._core.op_info(n) for n in ts._core.op_names()}
ELEMENTWISE = sorted(n for n, i in INFO.items() if i["elementwise"])
# Ops whose scalar function is defined on floats only (TS_SCALAR_FUNCTIONS).
FLOAT_MATH = {n for n in ELEMENTWISE
              if f"X({INFO[n]['scalar']}, {INFO[n]['num_inputs']}, Float)" in ts._core._cuda_prelude()}
UNARY = [n for n in ELEMENTWISE if INFO[n]["num_inputs"] == 1 and n not in OWN_TESTS]
BINARY = [n for n in ELEMENTWISE if INFO[n]["num_inputs"] == 2 and n not in OWN_TESTS]


def domain(name, k):
    """The sampler of input k of op `name`, from its declaration."""
    domains = INFO[name]["domains"]
    return SAMPLERS[domains[k] if domains else "real"]


def declared_dtypes(name):
    return [d for d in ALL if d.name in INFO[name]["dtypes"]]


def test_every_elementwise_op_has_a_reference():
    missing = [n for n in ELEMENTWISE if n not in REFERENCE and n not in OWN_TESTS]
    assert not missing, f"elementwise ops without a reference: {missing}"
    assert len(UNARY) + len(BINARY) + len(OWN_TESTS) == len(ELEMENTWISE)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_declared_dtypes_are_exactly_those_accepted(name):
    """Both ways: every declared dtype builds, every other raises DTypeError."""
    for dt in ALL:
        g = ts.Graph()
        xs = [g.placeholder((2,), ts.bool if (name == "select" and k == 0) else dt) for k in range(INFO[name]["num_inputs"])]
        attrs = {"dtype": ts.float32} if name == "cast" else {}
        if dt in declared_dtypes(name):
            g._op1(name, xs, **attrs)
        else:
            with pytest.raises(ts.DTypeError, match=name):
                g._op1(name, xs, **attrs)


def kind_of(name):
    """float: float math (integers promote to float32); pred: bool result; numeric: the input's dtype."""
    if INFO[name]["bool_result"]:
        return "pred"
    return "float" if name in FLOAT_MATH else "numeric"


# The dtypes tested per op: its declared ones (float math: floats and one integer type).
def dtypes_to_test(name):
    dts = declared_dtypes(name)
    return [d for d in dts if d in FLOATS or d == ts.int32] if kind_of(name) == "float" else dts


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


CASES = [(name, dt) for name in UNARY for dt in dtypes_to_test(name)]


@pytest.mark.parametrize("name,dt", CASES, ids=[f"{n}-{d.name}" for n, d in CASES])
def test_unary(name, dt):
    covers(name)
    ref, kind = REFERENCE[name], kind_of(name)
    rng = np.random.default_rng(seed_of(name, dt.name))
    for trial in range(4):
        shape = broadcast_shapes(rng, 1, rank=0 if trial == 0 else None)[0]
        feed, exact = as_input(sample(rng, domain(name, 0), shape, dt), dt)
        got = run_graph(lambda g, x: getattr(g, name)(x), [feed], rng)
        want = reference(ref, [exact], dt, kind)
        assert_close(got, want, result_dtype(dt, kind), f"{name} {dt.name} {shape}")


BCASES = [(name, dt) for name in BINARY for dt in dtypes_to_test(name)]


@pytest.mark.parametrize("name,dt", BCASES, ids=[f"{n}-{d.name}" for n, d in BCASES])
def test_binary(name, dt):
    covers(name)
    ref, kind, da, db = REFERENCE[name], kind_of(name), domain(name, 0), domain(name, 1)
    rng = np.random.default_rng(seed_of(name, dt.name, 2))
    for trial in range(4):
        sa, sb = broadcast_shapes(rng, 2, rank=0 if trial == 0 else None)
        fa, ea = as_input(sample(rng, da, sa, dt), dt)
        fb, eb = as_input(sample(rng, db, sb, dt), dt)
        if name == "power" and dt in FLOATS:
            fa, ea = as_input(np.abs(ea) + 0.25, dt)
        got = run_graph(lambda g, a, b: getattr(g, name)(a, b), [fa, fb], rng)
        want = reference(ref, [ea, eb], dt, kind)
        assert_close(got, want, result_dtype(dt, kind), f"{name} {dt.name} {sa} {sb}")


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
