"""Property-based differential testing: hypothesis builds random graphs and
each one runs stitched, op by op, and as a float64 NumPy reference.

The graphs share operands between ops (residual shapes, diamonds, one tensor
feeding a matmul and its epilogue), broadcast, have zero-sized and -1 dims,
and come in float and integer dtypes. A sample of the float64 graphs is also
gradient-checked against central differences of the reference. Failures
shrink to a small graph, printed as the list of ops that built it.

CI runs a bounded number of graphs; a longer run is
``TENSORSTITCH_FUZZ_EXAMPLES=20000 python -m pytest tests/test_random_graphs.py``.
"""
import os

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import tensorstitch as ts
from gradcheck import central_differences

EXAMPLES = int(os.environ.get("TENSORSTITCH_FUZZ_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Ops whose values stay bounded on bounded inputs, with their references.
FLOAT_UNARY = {
    "tanh": np.tanh, "sigmoid": sp.expit, "sin": np.sin, "cos": np.cos, "abs": np.abs, "negative": np.negative,
    "relu": lambda v: np.maximum(v, 0), "erf": sp.erf, "square": np.square, "floor": np.floor,
    "exp": np.exp, "gelu": lambda v: 0.5 * v * (1 + sp.erf(v / np.sqrt(2))), "atan": np.arctan,
    "identity": lambda v: v, "sign": np.sign, "round": np.round,
}
INT_UNARY = {"negative": np.negative, "abs": np.abs, "square": np.square, "sign": np.sign, "identity": lambda v: v}
ARITH = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "maximum": np.maximum,
         "minimum": np.minimum}
COMPARE = {"less": np.less, "greater_equal": np.greater_equal, "equal": np.equal, "not_equal": np.not_equal}
REDUCE = {"reduce_sum": np.sum, "reduce_max": np.max, "reduce_min": np.min, "reduce_mean": np.mean}
# Ops with kinks or jumps, where finite differences disagree at ties.
NOT_SMOOTH = {"abs", "relu", "floor", "sign", "round", "maximum", "minimum", "reduce_max", "reduce_min", "sort",
              "less", "greater_equal", "equal", "not_equal", "select", "clamp", "cast"}


class Builder:
    """Builds a graph and its reference side by side. Each value is a graph
    tensor plus a replayable NumPy function of the inputs."""

    def __init__(self, data, dtype):
        self.data, self.dtype = data, dtype
        self.np_dtype = ts._dtypes.to_numpy_dtype(dtype)
        self.is_float = ts._dtypes.is_floating(dtype)
        self.g = ts.Graph()
        self.values = []  # (tensor, fn(env) -> array, smooth)
        self.inputs = []  # (placeholder, array)
        self.log = []

    def draw(self, strategy, label):
        return self.data.draw(strategy, label=label)

    def add(self, tensor, fn, smooth, what):
        self.values.append((tensor, fn, smooth))
        self.log.append(what)
        return len(self.values) - 1


def placeholder_value(b, shape, label):
    size = int(np.prod(shape))
    if b.is_float:
        values = b.draw(st.lists(st.floats(-2, 2, width=32), min_size=size, max_size=size), label)
        return np.asarray(values, np.float64).reshape(shape)
    values = b.draw(st.lists(st.integers(-3, 3), min_size=size, max_size=size), label)
    return np.asarray(values, np.int64).reshape(shape).astype(b.np_dtype)


def build_random_graph(data, dtype):
    """Draws a graph; returns (builder, feeds, arrays, target indices)."""
    b = Builder(data, dtype)
    n = b.draw(st.integers(0, 4), "n")  # 0: zero-sized dimensions
    m = b.draw(st.sampled_from([n, 3]), "m")  # n == m: square values, matmul chains
    base = (n, m)
    shapes = [base, (m,), (1, m), (n, 1), (), (2, n, m)]
    arrays = []
    for i in range(b.draw(st.integers(1, 3), "inputs")):
        shape = b.draw(st.sampled_from(shapes), f"shape{i}")
        declared = tuple(-1 if b.draw(st.booleans(), f"dynamic{i}.{d}") else size for d, size in enumerate(shape))
        ph = b.g.placeholder(declared, dtype, name=f"in{i}")
        value = placeholder_value(b, shape, f"value{i}")
        arrays.append(value)
        b.inputs.append((ph, value))
        b.add(ph, (lambda i: lambda get: arrays[i])(i), True, f"in{i} = placeholder({declared})")

    def shape_of(k):
        return np.shape(reference_values(b, arrays)[k])

    def pick(label):
        return b.draw(st.integers(0, len(b.values) - 1), label)

    def as_dt(v):
        return v if b.is_float else np.asarray(v).astype(b.np_dtype)

    for step in range(b.draw(st.integers(1, 10), "ops")):
        kind = b.draw(st.sampled_from(["unary", "binary", "binary", "compare_select", "reduce", "matmul",
                                       "residual", "movement", "scalar", "softmax", "rows", "clamp"]), f"kind{step}")
        i = pick(f"a{step}")
        t, _, si = b.values[i]
        shape = shape_of(i)
        if kind == "unary":
            table = FLOAT_UNARY if b.is_float else INT_UNARY
            name = b.draw(st.sampled_from(sorted(table)), f"unary{step}")
            fn = table[name]
            if name in ("exp", "square") and b.is_float:  # bounded: exp(tanh(x)), tanh(x)^2
                i = b.add(b.g.tanh(t), (lambda i: lambda get: np.tanh(get(i)))(i), si, f"tanh(v{i})")
                t = b.values[i][0]
            b.add(getattr(b.g, name)(t), (lambda i, fn: lambda get: as_dt(fn(get(i))))(i, fn),
                  si and name not in NOT_SMOOTH, f"{name}(v{i})")
        elif kind in ("binary", "compare_select"):
            j = pick(f"b{step}")
            u, _, sj = b.values[j]
            try:
                np.broadcast_shapes(shape, shape_of(j))
            except ValueError:
                continue
            if kind == "binary":
                name = b.draw(st.sampled_from(sorted(ARITH)), f"binary{step}")
                fn = ARITH[name]
                b.add(getattr(b.g, name)(t, u), (lambda i, j, fn: lambda get: as_dt(fn(get(i), get(j))))(i, j, fn),
                      si and sj and name not in NOT_SMOOTH, f"{name}(v{i}, v{j})")
            else:
                name = b.draw(st.sampled_from(sorted(COMPARE)), f"compare{step}")
                fn = COMPARE[name]
                cond = getattr(b.g, name)(t, u)
                b.add(b.g.select(cond, t, u), (lambda i, j, fn: lambda get: np.where(fn(get(i), get(j)), get(i), get(j)))(i, j, fn),
                      False, f"select({name}(v{i}, v{j}), v{i}, v{j})")
        elif kind == "reduce":
            if not shape:
                continue
            axis = b.draw(st.integers(-len(shape), len(shape) - 1), f"axis{step}")
            name = b.draw(st.sampled_from(sorted(REDUCE)), f"reduce{step}")
            if shape[axis] == 0 and name in ("reduce_max", "reduce_min", "reduce_mean"):
                continue
            if name == "reduce_mean" and not b.is_float:
                continue
            fn = REDUCE[name]
            b.add(getattr(b.g, name)(t, axis, keepdims=True),
                  (lambda i, fn, axis: lambda get: as_dt(fn(get(i), axis=axis, keepdims=True)))(i, fn, axis),
                  si and name not in NOT_SMOOTH, f"{name}(v{i}, {axis}, keepdims)")
        elif kind == "matmul":
            # The value (or one of its relatives) feeds both the product and, often, its epilogue.
            if len(shape) < 1:
                continue
            j = pick(f"mm{step}")
            u, _, sj = b.values[j]
            other = shape_of(j)
            if len(other) < 1 or (other[-2] if len(other) > 1 else other[0]) != shape[-1]:
                continue
            if len(shape) + len(other) > 4 or (len(shape) > 2 and len(other) > 2 and shape[:-2] != other[:-2]):
                continue
            scale = 1.0 / max(1, shape[-1])
            b.add(b.g.matmul(t, u) * scale if b.is_float else b.g.matmul(t, u),
                  (lambda i, j, scale: lambda get: as_dt(np.matmul(get(i), get(j)) * (scale if b.is_float else 1)))(i, j, scale),
                  si and sj, f"matmul(v{i}, v{j})")
        elif kind == "residual":
            # h = f(x); h @ h + h: one computed tensor feeds a matmul and its epilogue.
            if len(shape) < 2 or shape[-1] != shape[-2]:
                continue
            name = b.draw(st.sampled_from(["tanh", "sin", "relu"] if b.is_float else ["negative", "abs"]), f"res{step}")
            fn = (FLOAT_UNARY if b.is_float else INT_UNARY)[name]
            h = b.add(getattr(b.g, name)(t), (lambda i, fn: lambda get: as_dt(fn(get(i))))(i, fn), si and name != "relu",
                      f"{name}(v{i})")
            ht = b.values[h][0]
            scale = 1.0 / max(1, shape[-1]) if b.is_float else 1
            b.add(b.g.matmul(ht, ht) * scale + ht,
                  (lambda h, scale: lambda get: as_dt(np.matmul(get(h), get(h)) * scale + get(h)))(h, scale),
                  b.values[h][2], f"matmul(v{h}, v{h}) * {scale} + v{h}")
        elif kind == "movement":
            name = b.draw(st.sampled_from(["transpose", "flip", "slice", "pad", "concat", "tile", "sort", "cumsum",
                                           "reshape"]), f"move{step}")
            if not shape and name not in ("reshape", "pad"):
                continue
            if name == "transpose":
                b.add(b.g.transpose(t), (lambda i: lambda get: np.transpose(get(i)))(i), si, f"transpose(v{i})")
            elif name == "flip":
                b.add(b.g.flip(t, [0]), (lambda i: lambda get: np.flip(get(i), 0))(i), si, f"flip(v{i})")
            elif name == "slice":
                b.add(t[::2], (lambda i: lambda get: get(i)[::2])(i), si, f"v{i}[::2]")
            elif name == "pad":
                if not shape:
                    continue
                pads = [(1, 0)] + [(0, 0)] * (len(shape) - 1)
                b.add(b.g.pad(t, pads), (lambda i, pads: lambda get: np.pad(get(i), pads))(i, pads), si,
                      f"pad(v{i}, {pads})")
            elif name == "concat":
                b.add(b.g.concat([t, t], -1), (lambda i: lambda get: np.concatenate([get(i), get(i)], -1))(i), si,
                      f"concat(v{i}, v{i})")
            elif name == "tile":
                reps = [1] * (len(shape) - 1) + [2]
                b.add(b.g.tile(t, reps), (lambda i, reps: lambda get: np.tile(get(i), reps))(i, reps), si,
                      f"tile(v{i}, {reps})")
            elif name == "sort":
                b.add(b.g.sort(t), (lambda i: lambda get: np.sort(get(i), -1))(i), False, f"sort(v{i})")
            elif name == "cumsum":
                b.add(b.g.cumsum(t, -1), (lambda i: lambda get: as_dt(np.cumsum(get(i), -1)))(i), si,
                      f"cumsum(v{i})")
            else:
                b.add(b.g.reshape(t, [-1]), (lambda i: lambda get: np.reshape(get(i), -1))(i), si, f"reshape(v{i}, [-1])")
        elif kind == "scalar":
            c = b.draw(st.sampled_from([0.5, -1.5, 2.0, 1.0, 0.0]) if b.is_float else st.integers(-2, 2), f"c{step}")
            b.add(t * c + c, (lambda i, c: lambda get: as_dt(get(i) * c + c))(i, c), si, f"v{i} * {c} + {c}")
        elif kind == "softmax":
            if not b.is_float or not shape:
                continue
            name = b.draw(st.sampled_from(["softmax", "log_softmax"]), f"sm{step}")
            fn = sp.softmax if name == "softmax" else sp.log_softmax
            b.add(getattr(b.g, name)(t), (lambda i, fn: lambda get: fn(get(i), axis=-1) if get(i).size else get(i))(i, fn),
                  si, f"{name}(v{i})")
        elif kind == "rows":
            # Row reductions broadcast back within the row, written from primitives.
            if not b.is_float or not shape or shape[-1] == 0:
                continue
            name = b.draw(st.sampled_from(["softmax", "normalize", "loss"]), f"rows{step}")
            if name == "softmax":
                m = b.g.reduce_max(t, -1, keepdims=True)
                e = b.g.exp(t - m)
                out, fn = e / b.g.reduce_sum(e, -1, keepdims=True), lambda v: sp.softmax(v, axis=-1)
            elif name == "normalize":
                d = t - b.g.reduce_mean(t, -1, keepdims=True)
                out = d / b.g.square_root(b.g.reduce_mean(d * d, -1, keepdims=True) + 1.0)
                fn = lambda v: (v - v.mean(-1, keepdims=True)) / np.sqrt(v.var(-1, keepdims=True) + 1.0)  # noqa: E731
            else:
                m = b.g.reduce_max(t, -1, keepdims=True)
                lsm = (t - m) - b.g.log(b.g.reduce_sum(b.g.exp(t - m), -1, keepdims=True))
                out, fn = -b.g.reduce_sum(b.g.sigmoid(t) * lsm, -1), lambda v: -(sp.expit(v) * sp.log_softmax(v, -1)).sum(-1)
            b.add(out, (lambda i, fn: lambda get: fn(get(i)))(i, fn), si, f"{name} of v{i} from primitives")
        else:
            lo, hi = (-0.5, 0.75) if b.is_float else (-1, 2)
            b.add(b.g.clamp(t, lo, hi), (lambda i: lambda get: as_dt(np.clip(get(i), lo, hi)))(i), False,
                  f"clamp(v{i}, {lo}, {hi})")
    count = len(b.values)
    targets = sorted(set(b.draw(st.lists(st.integers(len(b.inputs), count - 1) if count > len(b.inputs)
                                         else st.integers(0, count - 1), min_size=1, max_size=3), "targets")))
    return b, targets


def reference_values(b, arrays):
    out = {}
    for k, (_, fn, _) in enumerate(b.values):
        if k < len(arrays):
            out[k] = arrays[k]
        else:
            out[k] = fn(lambda q: out[q])
    return out


def tolerance(dtype, want):
    scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    return (1e-4 * scale, 1e-4) if dtype == ts.float32 else (1e-9 * scale, 1e-9)


def run_mode(b, targets, fusion, monkeypatch, device=None):
    monkeypatch.setenv("TENSORSTITCH_FUSION", fusion)
    feeds = {ph: value.astype(b.np_dtype) for ph, value in b.inputs}
    exe = b.g.compile({ph: ts.TensorType(ph.shape, ph.dtype) for ph, _ in b.inputs}, [b.values[k][0] for k in targets],
                      device=device)
    return [r.numpy() for r in exe.run(feeds)]


def drawn_graph(data, dtype):
    """A random graph and its targets, listed for hypothesis to print on failure."""
    b, targets = build_random_graph(data, dtype)
    note("\n".join(f"v{k} = {line}" for k, line in enumerate(b.log)) + f"\ntargets: {targets}")
    return b, targets


@pytest.mark.parametrize("dtype", [ts.float32, ts.float64, ts.int32], ids=lambda d: d.name)
@SETTINGS
@given(data=st.data())
def test_random_graphs_fused_unfused_and_reference_agree(dtype, data):
    with pytest.MonkeyPatch.context() as monkeypatch:
        b, targets = drawn_graph(data, dtype)
        arrays = [v.astype(b.np_dtype).astype(np.float64) if b.is_float else v for _, v in b.inputs]
        ref = reference_values(b, arrays)
        fused = run_mode(b, targets, "1", monkeypatch)
        unfused = run_mode(b, targets, "0", monkeypatch)
    for k, f, u in zip(targets, fused, unfused):
        want = np.asarray(ref[k])
        assert f.shape == want.shape and u.shape == want.shape, f"v{k}: shapes {f.shape} {u.shape} {want.shape}"
        if b.is_float:
            atol, rtol = tolerance(dtype, want)
            np.testing.assert_allclose(f, want, rtol=rtol, atol=atol, err_msg=f"v{k} fused vs reference")
            np.testing.assert_allclose(u, want, rtol=rtol, atol=atol, err_msg=f"v{k} unfused vs reference")
        else:
            np.testing.assert_array_equal(f, want.astype(f.dtype), err_msg=f"v{k} fused vs reference")
            np.testing.assert_array_equal(u, want.astype(u.dtype), err_msg=f"v{k} unfused vs reference")


@pytest.mark.skipif(not any(d.kind == "cuda" for d in ts.devices()), reason="needs an NVIDIA GPU and driver")
@pytest.mark.parametrize("dtype", [ts.float32, ts.float64, ts.int32], ids=lambda d: d.name)
@SETTINGS
@given(data=st.data())
def test_random_graphs_agree_on_the_cpu_and_cuda(dtype, data):
    with pytest.MonkeyPatch.context() as monkeypatch:
        b, targets = drawn_graph(data, dtype)
        fusion = data.draw(st.sampled_from(["1", "0"]), "fusion")
        cpu = run_mode(b, targets, fusion, monkeypatch, "cpu")
        gpu = run_mode(b, targets, fusion, monkeypatch, "cuda")
    for k, c, u in zip(targets, cpu, gpu):
        assert c.shape == u.shape, f"v{k}: shapes {c.shape} {u.shape}"
        if b.is_float:
            atol, rtol = tolerance(dtype, c.astype(np.float64))
            np.testing.assert_allclose(u, c, rtol=rtol, atol=atol, err_msg=f"v{k} CUDA vs CPU")
        else:
            np.testing.assert_array_equal(u, c, err_msg=f"v{k} CUDA vs CPU")


@SETTINGS
@given(data=st.data())
def test_random_graph_gradients_match_finite_differences(data):
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("TENSORSTITCH_FUSION", data.draw(st.sampled_from(["1", "0"]), "fusion"))
        b, targets = build_random_graph(data, ts.float64)
        targets = [k for k in targets if b.values[k][2]]  # smooth values only
        if not targets:
            return
        note("\n".join(f"v{k} = {line}" for k, line in enumerate(b.log)) + f"\ntargets: {targets}")
        arrays = [v for _, v in b.inputs]
        shapes = [np.shape(reference_values(b, arrays)[k]) for k in targets]
        weights = [np.linspace(-1, 1, int(np.prod(shape))).reshape(shape) for shape in shapes]
        loss = None
        for k, w in zip(targets, weights):
            term = b.g.reduce_sum(b.values[k][0] * b.g.constant(w))
            loss = term if loss is None else loss + term
        phs = [ph for ph, _ in b.inputs]
        grads = b.g.gradients(loss, phs)
        got = b.g.run(dict(b.inputs), [grads[ph] for ph in phs])

        def f(values):
            ref = reference_values(b, values)
            return sum(float(np.sum(np.asarray(ref[k]) * w)) for k, w in zip(targets, weights))

        for i in range(len(b.inputs)):
            numeric = central_differences(f, arrays, i)
            np.testing.assert_allclose(got[i].numpy(), numeric, rtol=1e-5, atol=1e-5, err_msg=f"d loss / d in{i}")
