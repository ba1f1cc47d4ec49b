"""ONNX models as tensorstitch graphs.

``ts.onnx.load(model)`` parses a model with the ``onnx`` package (``pip install
"tensorstitch[onnx]"``) and maps each node to graph ops: it returns the graph,
its input placeholders and its output tensors. Dynamic dimensions become -1;
initializers become constants, or variables with ``trainable=True`` (so
``ts.optim`` can fine-tune an imported model). Inputs that an op needs as
values while building (a Reshape's shape, a Slice's bounds, ...) must be
initializers or Constant nodes, or be given in ``static_inputs``.

``Backend`` runs models through ONNX's backend interface (``prepare(model)
.run(inputs)``), building the graph at the first run when the input values
are known; tests/test_onnx_node_suite.py scores it on ONNX's node tests.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._dtypes import as_dtype, float32, int32, int64, to_numpy_dtype
from .descriptors import Conv2dDescriptor, Pool2dDescriptor

MIN_OPSET = 13


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('ts.onnx needs the onnx package: pip install "tensorstitch[onnx]"') from None
    return onnx


class _Context:
    """One node being converted: the graph, the tensors by name, the values
    known while building (constants, and the run-time inputs a backend
    knows: usable as shapes, never folded)."""

    def __init__(self, graph, node, opset, values, statics, known):
        self.g, self.node, self.opset = graph, node, opset
        self.values, self.statics, self.known = values, statics, known

    @property
    def where(self):
        return f"onnx {self.node.op_type} node '{self.node.name or self.node.output[0]}' (opset {self.opset})"

    def fail(self, message, error=_core.GraphError):
        raise error(f"{self.where}: {message}")

    def attr(self, name, default=None):
        onnx = _onnx()
        for a in self.node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def input(self, k):
        """The k-th input as a tensor; None where it is absent (optional)."""
        if k >= len(self.node.input) or not self.node.input[k]:
            return None
        name = self.node.input[k]
        if name not in self.values:
            if name in self.statics:
                self.values[name] = self.g.constant(self.statics[name])
            else:
                self.fail(f"input '{name}' is not produced by any earlier node")
        return self.values[name]

    def static(self, k, what):
        """The k-th input's value, known while building (None where absent)."""
        if k >= len(self.node.input) or not self.node.input[k]:
            return None
        name = self.node.input[k]
        for source in (self.statics, self.known):
            if name in source:
                return np.asarray(source[name])
        self.fail(f"its {what} (input '{name}') must be a constant (an initializer or a Constant node) "
                  "or be given in static_inputs")


def _text(c, name, default):
    value = c.attr(name, default)
    return value.decode() if isinstance(value, bytes) else value


def _indices(c, idx, sizes):
    """Integer indices as int32 with negative ones counted from the end of
    ``sizes`` (a size, or a tensor of sizes per coordinate)."""
    idx = c.g.cast(idx, int32)
    return c.g.select(idx < 0, idx + sizes, idx)


def _elementwise(method):
    return lambda c: [getattr(c.g, method)(c.input(0))]


def _binary(method):
    return lambda c: [getattr(c.g, method)(c.input(0), c.input(1))]


def _variadic(method):
    def convert(c):
        out = c.input(0)
        for k in range(1, len(c.node.input)):
            out = getattr(c.g, method)(out, c.input(k))
        return [out]
    return convert


def _is_float(t):
    return np.dtype(to_numpy_dtype(t.dtype)).kind == "f"


def _div(c):
    a, b = c.input(0), c.input(1)
    if _is_float(a):
        return [a / b]
    # Integer division truncates toward zero, as C does.
    q = c.g.floor_divide(c.g.abs(a), c.g.abs(b))
    return [c.g.select((a < 0) != (b < 0), -q, q)]


def _axes_of(c, input_index=1):
    """Axes as an attribute (older opsets) or an input (newer)."""
    axes = c.attr("axes")
    if axes is None:
        value = c.static(input_index, "axes")
        axes = None if value is None else value.tolist()
    return None if axes is None else [int(a) for a in np.ravel(axes)]


def _reduce(method, post=None, pre=None):
    def convert(c):
        x = c.input(0)
        axes = _axes_of(c)
        keep = bool(c.attr("keepdims", 1))
        if axes is not None and len(axes) == 0:
            axes = None
        if axes is None and c.attr("noop_with_empty_axes", 0):
            return [c.g.identity(x)]
        if pre:
            x = pre(c.g, x)
        out = getattr(c.g, method)(x, axes=axes, keepdims=keep)
        return [post(c.g, out) if post else out]
    return convert


def _softmax(method):
    return lambda c: [getattr(c.g, method)(c.input(0), axis=int(c.attr("axis", -1)))]


def _gemm(c):
    a, b, bias = c.input(0), c.input(1), c.input(2)
    y = c.g.matmul(a, b, transpose_a=bool(c.attr("transA", 0)), transpose_b=bool(c.attr("transB", 0)))
    alpha, beta = float(c.attr("alpha", 1.0)), float(c.attr("beta", 1.0))
    if alpha != 1.0:
        y = y * alpha
    if bias is not None:
        y = y + (bias * beta if beta != 1.0 else bias)
    return [y]


def _reshape(c):
    x = c.input(0)
    shape = [int(s) for s in c.static(1, "shape")]
    if not c.attr("allowzero", 0):  # 0 copies the input's dimension
        shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return [c.g.reshape(x, shape)]


def _flatten(c):
    x = c.input(0)
    rank = len(x.shape)
    axis = int(c.attr("axis", 1))
    axis = axis + rank if axis < 0 else axis
    outer, inner = x.shape[:axis], x.shape[axis:]
    if -1 in inner:
        return [c.g.reshape(x, [int(np.prod(outer)), -1])]
    return [c.g.reshape(x, [-1 if -1 in outer else int(np.prod(outer)), int(np.prod(inner))])]


def _split(c):
    x = c.input(0)
    axis = int(c.attr("axis", 0))
    sizes = c.attr("split")
    if sizes is None:
        value = c.static(1, "split sizes")
        sizes = None if value is None else value.tolist()
    if sizes is None:
        count = int(c.attr("num_outputs", len(c.node.output)))
        dim = x.shape[axis]
        chunk = -(-dim // count)  # the last part is smaller, as ONNX says
        sizes = [min(chunk, dim - chunk * k) for k in range(count)]
    return c.g.split(x, [int(s) for s in sizes], axis)


def _slice(c):
    x = c.input(0)
    starts, ends = c.static(1, "starts"), c.static(2, "ends")
    axes = c.static(3, "axes")
    steps = c.static(4, "steps")
    rank = len(x.shape)
    axes = list(range(len(starts))) if axes is None else [int(a) % rank for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    st, en, sp = [None] * rank, [None] * rank, [1] * rank
    big = 2 ** 62
    for a, s, e, p in zip(axes, starts, ends, steps):
        st[a], en[a], sp[a] = int(np.clip(s, -big, big)), int(np.clip(e, -big, big)), int(p)
    return [c.g.slice(x, st, en, sp)]


def _squeeze(c):
    axes = _axes_of(c)
    return [c.g.squeeze(c.input(0), axes)]


def _unsqueeze(c):
    x, axes = c.input(0), _axes_of(c)
    axes = sorted(a % (len(x.shape) + len(axes)) for a in axes)
    for a in axes:
        x = c.g.expand_dims(x, a)
    return [x]


def _expand(c):
    x = c.input(0)
    shape = [int(s) for s in c.static(1, "shape")]
    # Bidirectional broadcasting: the result is the broadcast of both.
    full = np.broadcast_shapes(tuple(x.shape), tuple(shape)) if -1 not in x.shape else None
    if full is None:
        c.fail("needs the input's shape known", _core.ShapeError)
    return [c.g.broadcast_to(x, list(full))]


def _gather(c):
    x, idx = c.input(0), c.input(1)
    axis = int(c.attr("axis", 0))
    return [c.g.gather(x, _indices(c, idx, x.shape[axis]), axis)]


def _cast(c):
    onnx = _onnx()
    to = onnx.helper.tensor_dtype_to_np_dtype(int(c.attr("to")))
    return [c.g.cast(c.input(0), as_dtype(to))]


def _constant(c):
    onnx = _onnx()
    for a in c.node.attribute:
        if a.name == "value":
            value = onnx.numpy_helper.to_array(a.t)
        elif a.name in ("value_float", "value_int", "value_floats", "value_ints"):
            value = np.array(onnx.helper.get_attribute_value(a), np.float32 if "float" in a.name else np.int64)
        else:
            c.fail(f"attribute {a.name} is not supported")
    c.statics[c.node.output[0]] = value
    return [c.g.constant(value)]


def _cast_like(c):
    return [c.g.cast(c.input(0), c.input(1).dtype)]


def _shape(c):
    x = c.input(0)
    if x.shape is None or -1 in x.shape:
        return [c.g.slice(c.g.shape_of(x), [c.attr("start", 0)], [c.attr("end", None)])]
    value = np.array(x.shape, np.int64)[int(c.attr("start", 0)):c.attr("end", None)]
    c.statics[c.node.output[0]] = value
    return [c.g.constant(value)]


def _constant_of_shape(c):
    onnx = _onnx()
    shape = [int(s) for s in c.static(0, "shape")]
    t = c.attr("value")
    value = onnx.numpy_helper.to_array(t) if t is not None else np.zeros(1, np.float32)
    out = np.full(shape, value.reshape(-1)[0], value.dtype)
    c.statics[c.node.output[0]] = out
    return [c.g.constant(out)]


def _clip(c):
    x = c.input(0)
    lo, hi = c.input(1), c.input(2)
    if lo is None and c.attr("min") is not None:
        lo = c.g.constant(np.array(c.attr("min"), np.float32))
    if hi is None and c.attr("max") is not None:
        hi = c.g.constant(np.array(c.attr("max"), np.float32))
    if lo is not None:
        x = c.g.maximum(x, c.g.cast(lo, x.dtype))
    if hi is not None:
        x = c.g.minimum(x, c.g.cast(hi, x.dtype))
    return [x]


def _pads_2d(c, x):
    auto = _text(c, "auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if auto == "SAME_LOWER":
            c.fail("auto_pad SAME_LOWER is not supported")
        return "SAME"
    if auto == "VALID":
        return "VALID"
    pads = c.attr("pads", [0, 0, 0, 0])
    return ((int(pads[0]), int(pads[2])), (int(pads[1]), int(pads[3])))


def _conv(c):
    x, w, bias = c.input(0), c.input(1), c.input(2)
    if len(x.shape) != 4:
        c.fail(f"only 2-D convolutions are supported; got an input of rank {len(x.shape)}", _core.ShapeError)
    desc = Conv2dDescriptor(strides=tuple(c.attr("strides", [1, 1])), dilations=tuple(c.attr("dilations", [1, 1])),
                            padding=_pads_2d(c, x), groups=int(c.attr("group", 1)))
    y = c.g.conv2d(x, w, desc)
    if bias is not None:
        y = y + c.g.reshape(bias, [1, -1, 1, 1])
    return [y]


def _pool(kind):
    def convert(c):
        x = c.input(0)
        if len(x.shape) != 4:
            c.fail(f"only 2-D pooling is supported; got an input of rank {len(x.shape)}", _core.ShapeError)
        if c.attr("ceil_mode", 0) or any(d != 1 for d in c.attr("dilations", [1, 1])):
            c.fail("ceil_mode and dilations are not supported")
        padding = _pads_2d(c, x)
        if kind == "avg" and c.attr("count_include_pad", 0) and padding != "VALID" and padding != ((0, 0), (0, 0)):
            c.fail("count_include_pad=1 with padding is not supported (averages exclude the padding)")
        desc = Pool2dDescriptor(tuple(c.attr("kernel_shape")), tuple(c.attr("strides", [1, 1])), padding)
        return [(c.g.max_pool2d if kind == "max" else c.g.avg_pool2d)(x, desc)]
    return convert


def _global_pool(method):
    return lambda c: [getattr(c.g, method)(c.input(0), axes=list(range(2, len(c.input(0).shape))), keepdims=True)]


def _batch_norm(c):
    x, scale, bias, mean, var = (c.input(k) for k in range(5))
    shape = [1, -1] + [1] * (len(x.shape) - 2)
    r = lambda t: c.g.reshape(t, shape)  # noqa: E731
    return [c.g.normalize(x, r(mean), r(var), r(scale), r(bias), epsilon=float(c.attr("epsilon", 1e-5)))]


def _instance_norm(c):
    x, scale, bias = c.input(0), c.input(1), c.input(2)
    mean, var = c.g.mean_variance(x, axes=list(range(2, len(x.shape))), keepdims=True)
    shape = [1, -1] + [1] * (len(x.shape) - 2)
    return [c.g.normalize(x, mean, var, c.g.reshape(scale, shape), c.g.reshape(bias, shape),
                          epsilon=float(c.attr("epsilon", 1e-5)))]


def _layer_norm(c):
    x, scale, bias = c.input(0), c.input(1), c.input(2)
    axis = int(c.attr("axis", -1)) % len(x.shape)
    mean, var = c.g.mean_variance(x, axes=list(range(axis, len(x.shape))), keepdims=True)
    y = c.g.normalize(x, mean, var, scale, bias, epsilon=float(c.attr("epsilon", 1e-5)))
    inv = c.g.reciprocal_square_root(var + float(c.attr("epsilon", 1e-5)))
    return [y, mean, inv][:len(c.node.output)]


def _where(c):
    return [c.g.select(c.input(0), c.input(1), c.input(2))]


def _leaky_relu(c):
    x = c.input(0)
    return [c.g.select(x < 0, x * float(c.attr("alpha", 0.01)), x)]


def _elu(c):
    x = c.input(0)
    return [c.g.select(x < 0, (c.g.exp(x) - 1.0) * float(c.attr("alpha", 1.0)), x)]


def _selu(c):
    x = c.input(0)
    alpha, gamma = float(c.attr("alpha", 1.67326319217681884765625)), float(c.attr("gamma", 1.05070102214813232421875))
    return [c.g.select(x <= 0, (c.g.exp(x) * alpha - alpha) * gamma, x * gamma)]


def _hard_sigmoid(c):
    x = c.input(0)
    return [c.g.clamp(x * float(c.attr("alpha", 0.2)) + float(c.attr("beta", 0.5)), 0.0, 1.0)]


def _hard_swish(c):
    x = c.input(0)
    return [x * c.g.clamp(x * (1.0 / 6.0) + 0.5, 0.0, 1.0)]


def _prelu(c):
    x, slope = c.input(0), c.input(1)
    return [c.g.select(x < 0, x * slope, x)]


def _gelu(c):
    x = c.input(0)
    if _text(c, "approximate", "none") == "tanh":
        return [0.5 * x * (1.0 + c.g.tanh((x + 0.044715 * x * x * x) * float(np.sqrt(2 / np.pi))))]
    return [c.g.gelu(x)]


def _softsign(c):
    x = c.input(0)
    return [x / (1.0 + c.g.abs(x))]


def _mod(c):
    a, b = c.input(0), c.input(1)
    m = c.g.modulo(a, b)  # the sign of the divisor, as Python's %
    if not c.attr("fmod", 0):
        return [m]
    # fmod: the sign of the dividend, as C's fmod.
    return [c.g.select(c.g.logical_and(m != 0, (a < 0) != (b < 0)), m - b, m)]


def _mean(c):
    return [_variadic("add")(c)[0] / float(len(c.node.input))]


def _argm(method):
    def convert(c):
        x = c.input(0)
        axis, keep = int(c.attr("axis", 0)), bool(c.attr("keepdims", 1))
        if not c.attr("select_last_index", 0):
            return [getattr(c.g, method)(x, axis=axis, keepdims=keep)]
        # The last of equal extremes: the first one of the reversed axis.
        last = x.shape[axis] - 1
        return [last - getattr(c.g, method)(c.g.flip(x, [axis]), axis=axis, keepdims=keep)]
    return convert


def _transpose(c):
    perm = c.attr("perm")
    return [c.g.transpose(c.input(0), None if perm is None else [int(p) for p in perm])]


def _concat(c):
    return [c.g.concat([c.input(k) for k in range(len(c.node.input))], int(c.attr("axis")))]


def _tile(c):
    return [c.g.tile(c.input(0), [int(r) for r in c.static(1, "repeats")])]


def _dropout(c):
    x = c.input(0)
    outs = [c.g.identity(x)]
    if len(c.node.output) > 1:
        outs.append(c.g.constant(np.ones(x.shape, np.bool_)))
    return outs


def _range(c):
    start, limit, delta = (c.static(k, name).item() for k, name in enumerate(("start", "limit", "delta")))
    value = np.arange(start, limit, delta, dtype=c.static(0, "start").dtype)
    c.statics[c.node.output[0]] = value
    return [c.g.constant(value)]


def _topk(c):
    x = c.input(0)
    k = int(c.static(1, "k").reshape(-1)[0])
    axis = int(c.attr("axis", -1))
    if c.attr("largest", 1):
        values, indices = c.g.top_k(x, k, axis=axis)
        return [values, c.g.cast(indices, int64)]
    # The k smallest: the k largest of the negation (ties still lower index first).
    values, indices = c.g.top_k(-x, k, axis=axis)
    return [-values, c.g.cast(indices, int64)]


def _cumsum(c):
    axis = int(c.static(1, "axis").reshape(-1)[0])
    return [c.g.cumsum(c.input(0), axis, exclusive=bool(c.attr("exclusive", 0)), reverse=bool(c.attr("reverse", 0)))]


def _pad(c):
    x = c.input(0)
    mode = _text(c, "mode", "constant")
    pads = c.attr("pads")
    pads = c.static(1, "pads") if pads is None else np.array(pads)
    axes = c.static(3, "axes")
    rank = len(x.shape)
    axes = list(range(rank)) if axes is None else [int(a) % rank for a in axes]
    pairs = [(0, 0)] * rank
    for i, a in enumerate(axes):
        pairs[a] = (int(pads[i]), int(pads[i + len(axes)]))
    value = c.static(2, "constant value")
    value = 0 if value is None or value.size == 0 else value.reshape(-1)[0].item()
    if mode not in ("constant", "reflect", "edge"):
        c.fail(f"mode {mode!r} is not supported")
    return [c.g.pad(x, pairs, mode=mode, value=value)]


def _size(c):
    x = c.input(0)
    return [c.g.constant(np.array(int(np.prod(x.shape)), np.int64))]


def _one_hot(c):
    idx, values = c.input(0), c.input(2)
    depth = int(c.static(1, "depth").reshape(-1)[0])
    hot = c.g.one_hot(_indices(c, idx, depth), depth, axis=int(c.attr("axis", -1)), dtype=values.dtype)
    off, on = values[0], values[1]
    return [hot * (on - off) + off]


def _depth_to_space(c):
    x = c.input(0)
    n, ch, h, w = x.shape
    b = int(c.attr("blocksize"))
    if _text(c, "mode", "DCR") == "DCR":
        t = c.g.transpose(c.g.reshape(x, [n, b, b, ch // (b * b), h, w]), [0, 3, 4, 1, 5, 2])
    else:
        t = c.g.transpose(c.g.reshape(x, [n, ch // (b * b), b, b, h, w]), [0, 1, 4, 2, 5, 3])
    return [c.g.reshape(t, [n, ch // (b * b), h * b, w * b])]


def _space_to_depth(c):
    x = c.input(0)
    n, ch, h, w = x.shape
    b = int(c.attr("blocksize"))
    t = c.g.transpose(c.g.reshape(x, [n, ch, h // b, b, w // b, b]), [0, 3, 5, 1, 2, 4])
    return [c.g.reshape(t, [n, ch * b * b, h // b, w // b])]


def _gather_elements(c):
    """out[..., i, ...] = x[..., index[..., i, ...], ...] along ``axis``: every
    output element's full coordinates (the index along the axis, its own
    position elsewhere) picked by gather_nd."""
    x, idx = c.input(0), c.input(1)
    rank = len(idx.shape)
    axis = int(c.attr("axis", 0)) % rank
    idx = _indices(c, idx, x.shape[axis])
    grids = np.meshgrid(*[np.arange(d, dtype=np.int32) for d in idx.shape], indexing="ij")
    coords = [idx if d == axis else c.g.constant(grids[d]) for d in range(rank)]
    return [c.g.gather_nd(x, c.g.stack(coords, axis=-1))]


def _gather_nd(c):
    x, idx = c.input(0), c.input(1)
    if c.attr("batch_dims", 0):
        c.fail("batch_dims other than 0 is not supported")
    sizes = c.g.constant(np.array(x.shape[:idx.shape[-1]], np.int32))
    return [c.g.gather_nd(x, _indices(c, idx, sizes))]


def _quantized_axis(c, x, t):
    """A scale or zero point shaped to broadcast along ``axis`` (per channel), or as it is."""
    if t is None or len(t.shape) == 0 or (len(t.shape) == 1 and t.shape[0] == 1):
        return t
    axis = int(c.attr("axis", 1)) % len(x.shape)
    return c.g.reshape(t, [-1 if d == axis else 1 for d in range(len(x.shape))])


def _dequantize(c):
    x, scale, zero = c.input(0), c.input(1), c.input(2)
    if c.attr("block_size", 0):
        c.fail("blocked quantization is not supported")
    scale, zero = _quantized_axis(c, x, scale), _quantized_axis(c, x, zero)
    v = c.g.cast(x, float32)
    if zero is not None:
        v = v - c.g.cast(zero, float32)
    return [v * c.g.cast(scale, float32)]


def _quantize(c):
    x, scale, zero = c.input(0), c.input(1), c.input(2)
    if c.attr("block_size", 0):
        c.fail("blocked quantization is not supported")
    scale, zero = _quantized_axis(c, x, scale), _quantized_axis(c, x, zero)
    out = zero.dtype if zero is not None else as_dtype(np.uint8)
    info = np.iinfo(to_numpy_dtype(out))
    v = c.g.round(c.g.cast(x, float32) / c.g.cast(scale, float32))
    if zero is not None:
        v = v + c.g.cast(zero, float32)
    return [c.g.cast(c.g.clamp(v, float(info.min), float(info.max)), out)]


def _source_coordinates(c, mode, n, m, scale):
    """Where each of the m outputs along an axis of n inputs samples the input."""
    i = np.arange(m, dtype=np.float64)
    if mode == "half_pixel":
        return (i + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (i + 0.5) / scale - 0.5 if m > 1 else np.zeros(m)
    if mode == "asymmetric":
        return i / scale
    if mode == "align_corners":
        return i * (n - 1) / (m - 1) if m > 1 else np.zeros(m)
    if mode == "half_pixel_symmetric":
        adjustment = m / (scale * n)
        return n / 2 * (1 - adjustment) + (i + 0.5) / scale - 0.5
    c.fail(f"coordinate_transformation_mode {mode!r} is not supported")


def _resize(c):
    """Nearest or (multi)linear resizing, one axis at a time: gathers of
    constant indices (and a weighted sum of two for linear)."""
    x = c.input(0)
    rank = len(x.shape)
    mode, coords = _text(c, "mode", "nearest"), _text(c, "coordinate_transformation_mode", "half_pixel")
    if mode not in ("nearest", "linear") or c.attr("antialias", 0) or _text(c, "keep_aspect_ratio_policy", "stretch") != "stretch":
        c.fail(f"mode {mode!r} (antialias {c.attr('antialias', 0)}, keep_aspect_ratio_policy "
               f"{_text(c, 'keep_aspect_ratio_policy', 'stretch')!r}) is not supported; nearest and linear are")
    axes = c.attr("axes")
    axes = list(range(rank)) if axes is None else [int(a) % rank for a in axes]
    scales, sizes = c.static(2, "scales"), c.static(3, "sizes")
    out = x
    for k, axis in enumerate(axes):
        n = x.shape[axis]
        if sizes is not None and sizes.size:
            m = int(sizes[k])
            scale = m / n
        else:
            scale = float(scales[k])
            m = int(np.floor(n * scale))
        if m == n and scale == 1.0:
            continue
        src = _source_coordinates(c, coords, n, m, scale)
        if mode == "nearest":
            rule = _text(c, "nearest_mode", "round_prefer_floor")
            pick = {"round_prefer_floor": lambda v: np.ceil(v - 0.5), "round_prefer_ceil": lambda v: np.floor(v + 0.5),
                    "floor": np.floor, "ceil": np.ceil}[rule](src)
            out = c.g.gather(out, np.clip(pick, 0, n - 1).astype(np.int32), axis)
            continue
        low = np.floor(src)
        weight = (src - low).astype(to_numpy_dtype(x.dtype))
        shape = [m if d == axis else 1 for d in range(rank)]
        w = c.g.constant(weight.reshape(shape))
        a = c.g.gather(out, np.clip(low, 0, n - 1).astype(np.int32), axis)
        b = c.g.gather(out, np.clip(low + 1, 0, n - 1).astype(np.int32), axis)
        out = a + (b - a) * w
    return [out]


def _trilu(c):
    """The upper (or lower) triangle of the last two axes from diagonal k: a constant mask."""
    x = c.input(0)
    k = c.static(1, "diagonal")
    k = 0 if k is None else int(k.reshape(-1)[0])
    rows, cols = x.shape[-2], x.shape[-1]
    if -1 in (rows, cols):
        c.fail("needs the last two dimensions known", _core.ShapeError)
    keep = np.triu(np.ones((rows, cols), np.bool_), k) if c.attr("upper", 1) else np.tril(np.ones((rows, cols), np.bool_), k)
    return [c.g.select(c.g.constant(keep), x, c.g.cast(c.g.constant(np.zeros((), np.float32)), x.dtype))]


def _einsum(c):
    """Einstein summation lowered to transposes, sums and one batched matmul
    per pair of operands (no ellipsis or repeated letters in one operand)."""
    equation = _text(c, "equation", "").replace(" ", "")
    lhs, _, out = equation.partition("->")
    terms = lhs.split(",")
    if "." in equation or any(len(set(t)) != len(t) for t in terms):
        c.fail(f"equation {equation!r}: ellipses and repeated letters in one operand are not supported")
    if "->" not in equation:
        out = "".join(sorted(ch for ch in set(lhs) - {","} if lhs.count(ch) == 1))
    g = c.g
    ops = [(c.input(k), t) for k, t in enumerate(terms)]

    def sum_out(x, term, keep):
        axes = [i for i, ch in enumerate(term) if ch not in keep]
        if axes:
            x = g.reduce_sum(x, axes=axes)
        return x, "".join(ch for ch in term if ch in keep)

    while len(ops) > 1:
        (a, ta), (b, tb) = ops[0], ops[1]
        rest = out + "".join(t for _, t in ops[2:])
        a, ta = sum_out(a, ta, tb + rest)
        b, tb = sum_out(b, tb, ta + rest)
        batch = [ch for ch in ta if ch in tb and ch in rest]
        summed = [ch for ch in ta if ch in tb and ch not in rest]
        free_a, free_b = [ch for ch in ta if ch not in tb], [ch for ch in tb if ch not in ta]
        size = dict(zip(ta, a.shape)) | dict(zip(tb, b.shape))
        prod = lambda letters: int(np.prod([size[ch] for ch in letters]))  # noqa: E731
        a = g.reshape(g.transpose(a, [ta.index(ch) for ch in batch + free_a + summed]),
                      [prod(batch), prod(free_a), prod(summed)])
        b = g.reshape(g.transpose(b, [tb.index(ch) for ch in batch + summed + free_b]),
                      [prod(batch), prod(summed), prod(free_b)])
        term = "".join(batch + free_a + free_b)
        ops = [(g.reshape(g.matmul(a, b), [size[ch] for ch in term]), term)] + ops[2:]
    x, term = sum_out(*ops[0], out)
    return [g.transpose(x, [term.index(ch) for ch in out]) if term != out else g.identity(x)]


def _sum_square(g, x):
    return x * x


def _l2_post(g, x):
    return g.square_root(x)


CONVERTERS = {
    "Abs": _elementwise("abs"), "Neg": _elementwise("negative"), "Exp": _elementwise("exp"), "Log": _elementwise("log"),
    "Sqrt": _elementwise("square_root"), "Reciprocal": _elementwise("reciprocal"), "Sin": _elementwise("sin"),
    "Cos": _elementwise("cos"), "Tan": _elementwise("tan"), "Asin": _elementwise("asin"), "Acos": _elementwise("acos"),
    "Atan": _elementwise("atan"), "Sinh": _elementwise("sinh"), "Cosh": _elementwise("cosh"),
    "Asinh": _elementwise("asinh"), "Acosh": _elementwise("acosh"), "Atanh": _elementwise("atanh"),
    "Tanh": _elementwise("tanh"), "Sigmoid": _elementwise("sigmoid"), "Relu": _elementwise("relu"),
    "Erf": _elementwise("erf"), "Floor": _elementwise("floor"), "Ceil": _elementwise("ceil"),
    "Round": _elementwise("round"), "Sign": _elementwise("sign"), "Not": _elementwise("logical_not"),
    "IsNaN": _elementwise("is_nan"), "Identity": _elementwise("identity"), "Softplus": _elementwise("softplus"), "Softsign": _softsign,
    "Gelu": _gelu, "HardSigmoid": _hard_sigmoid, "HardSwish": _hard_swish, "Elu": _elu, "Selu": _selu,
    "LeakyRelu": _leaky_relu, "PRelu": _prelu,
    "Add": _binary("add"), "Sub": _binary("subtract"), "Mul": _binary("multiply"), "Div": _div,
    "Pow": _binary("power"), "Max": _variadic("maximum"), "Min": _variadic("minimum"), "Sum": _variadic("add"),
    "Mean": _mean, "Equal": _binary("equal"), "Less": _binary("less"), "LessOrEqual": _binary("less_equal"),
    "Greater": _binary("greater"), "GreaterOrEqual": _binary("greater_equal"), "And": _binary("logical_and"),
    "Or": _binary("logical_or"), "Xor": _binary("logical_xor"), "Mod": _mod, "Where": _where, "Clip": _clip,
    "MatMul": _binary("matmul"), "Gemm": _gemm,
    "Reshape": _reshape, "Flatten": _flatten, "Transpose": _transpose, "Concat": _concat, "Split": _split,
    "Slice": _slice, "Squeeze": _squeeze, "Unsqueeze": _unsqueeze, "Expand": _expand, "Tile": _tile,
    "Gather": _gather, "GatherElements": _gather_elements, "GatherND": _gather_nd, "Resize": _resize, "DequantizeLinear": _dequantize,
    "QuantizeLinear": _quantize, "Cast": _cast, "CastLike": _cast_like, "Constant": _constant, "Shape": _shape, "Size": _size,
    "ConstantOfShape": _constant_of_shape, "Range": _range, "Dropout": _dropout, "Pad": _pad, "OneHot": _one_hot,
    "TopK": _topk, "Trilu": _trilu, "Einsum": _einsum, "CumSum": _cumsum, "DepthToSpace": _depth_to_space, "SpaceToDepth": _space_to_depth,
    "ArgMax": _argm("argmax"), "ArgMin": _argm("argmin"),
    "ReduceSum": _reduce("reduce_sum"), "ReduceMean": _reduce("reduce_mean"), "ReduceMax": _reduce("reduce_max"),
    "ReduceMin": _reduce("reduce_min"), "ReduceProd": _reduce("reduce_prod"),
    "ReduceSumSquare": _reduce("reduce_sum", pre=_sum_square),
    "ReduceL1": _reduce("reduce_sum", pre=lambda g, x: g.abs(x)),
    "ReduceL2": _reduce("reduce_sum", pre=_sum_square, post=_l2_post),
    "ReduceLogSum": _reduce("reduce_sum", post=lambda g, x: g.log(x)),
    "ReduceLogSumExp": _reduce("reduce_sum", pre=lambda g, x: g.exp(x), post=lambda g, x: g.log(x)),
    "Softmax": _softmax("softmax"), "LogSoftmax": _softmax("log_softmax"),
    "Conv": _conv, "MaxPool": _pool("max"), "AveragePool": _pool("avg"),
    "GlobalAveragePool": _global_pool("reduce_mean"), "GlobalMaxPool": _global_pool("reduce_max"),
    "BatchNormalization": _batch_norm, "InstanceNormalization": _instance_norm,
    "LayerNormalization": _layer_norm,
}


def supported_ops():
    """The ONNX op types ``load`` maps, sorted."""
    return sorted(CONVERTERS)


def _type_of(onnx, value_info):
    t = value_info.type.tensor_type
    dims = None
    if t.HasField("shape"):
        dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim)
    return dims, as_dtype(onnx.helper.tensor_dtype_to_np_dtype(t.elem_type))


def _opset(onnx, model):
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return o.version
    return onnx.defs.onnx_opset_version()


def load(model, trainable=False, static_inputs=None):
    """Convert an ONNX model (a path or a ``ModelProto``) into ``(graph,
    inputs, outputs)``: a ``ts.Graph``, its placeholders in the model's input
    order, and its output tensors. ``trainable=True`` makes float
    initializers variables (named as in the model); ``static_inputs``
    ({input name: array}) gives values for inputs that ops need while
    building (shapes, slice bounds)."""
    from .graph import Graph

    onnx = _onnx()
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    opset = _opset(onnx, model)
    if opset < MIN_OPSET:
        raise _core.GraphError(f"onnx: the model imports opset {opset}; supported are {MIN_OPSET} to "
                               f"{onnx.defs.onnx_opset_version()}")
    g = Graph()
    values, statics, known = {}, {}, dict(static_inputs or {})
    for init in model.graph.initializer:
        array = onnx.numpy_helper.to_array(init)
        if trainable and array.dtype.kind == "f":
            values[init.name] = g.variable(array, name=init.name)
            known[init.name] = array
        else:
            statics[init.name] = array  # a constant, made where a node reads it
    inputs = []
    for vi in model.graph.input:
        if vi.name in values:
            continue  # an initializer listed as an input
        dims, dtype = _type_of(onnx, vi)
        ph = g.placeholder(dims, dtype, name=vi.name)
        values[vi.name] = ph
        inputs.append(ph)
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            raise _core.GraphError(f"onnx: node '{node.name}' is of domain {node.domain!r}; only the default "
                                   "domain is supported")
        if _fold(onnx, node, statics):
            continue
        convert = CONVERTERS.get(node.op_type)
        if convert is None:
            raise _core.GraphError(f"onnx: {node.op_type} (node '{node.name or node.output[0]}', opset {opset}) is "
                                   f"not supported; supported ops: {', '.join(supported_ops())}")
        c = _Context(g, node, opset, values, statics, known)
        outs = convert(c)
        for name, t in zip(node.output, outs):
            if name:
                values[name] = t
    outputs = []
    for vi in model.graph.output:
        if vi.name not in values and vi.name in statics:
            values[vi.name] = g.constant(statics[vi.name])
        if vi.name not in values:
            raise _core.GraphError(f"onnx: output '{vi.name}' is not produced by any node")
        outputs.append(values[vi.name])
    return g, inputs, outputs


_RANDOM = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}


def _foldable(node, statics):
    """Every input is a constant (and the op draws no random numbers)."""
    return node.op_type not in _RANDOM and all(not n or n in statics for n in node.input) and not any(
        a.type in (a.GRAPH, a.GRAPHS) for a in node.attribute)


def _fold(onnx, node, statics):
    """Constant folding: a node of constants only is evaluated while building
    (shape arithmetic such as Shape -> Gather -> Concat -> Reshape), by the
    onnx package's reference evaluator; its results become constants."""
    if not _foldable(node, statics) or node.op_type == "Constant" and not node.input:
        return False
    from onnx.reference import ReferenceEvaluator

    try:
        results = ReferenceEvaluator(node).run(None, {n: statics[n] for n in node.input if n})
    except Exception:  # noqa: BLE001 - left to the converter, which names what is wrong
        return False
    for name, value in zip(node.output, results):
        if name:
            statics[name] = np.asarray(value)
    return True


class BackendRep:
    """A prepared model: ``run(inputs)`` returns the outputs as NumPy arrays.
    The graph is built at the first run of each input signature, when the
    inputs' values are known (inputs used as shapes become constants)."""

    def __init__(self, model, device):
        self.model, self.device = model, device
        initialized = {i.name for i in model.graph.initializer}
        self.names = [vi.name for vi in model.graph.input if vi.name not in initialized]
        self._compiled = {}

    def run(self, inputs, **kwargs):
        onnx = _onnx()
        names = self.names
        if isinstance(inputs, dict):
            arrays = [np.asarray(inputs[n]) for n in names]
        else:
            arrays = [np.asarray(a) for a in (inputs if isinstance(inputs, (list, tuple)) else [inputs])]
        key = tuple((a.shape, a.dtype.str) for a in arrays)
        if key not in self._compiled:
            model = onnx.ModelProto()
            model.CopyFrom(self.model)
            for vi, a in zip([vi for vi in model.graph.input if vi.name in names], arrays):
                shape = vi.type.tensor_type.shape
                shape.ClearField("dim")
                for d in a.shape:
                    shape.dim.add().dim_value = d
            self._compiled[key] = load(model, static_inputs=dict(zip(names, arrays)))
        g, phs, outs = self._compiled[key]
        by_name = dict(zip(names, arrays))
        results = g.run({p: by_name[p.name] for p in phs}, outs, device=self.device)
        return [np.asarray(r) for r in results]


class Backend:
    """ONNX's backend interface over tensorstitch (``onnx.backend.base.Backend``'s methods)."""

    @classmethod
    def is_compatible(cls, model, device="CPU", **kwargs):
        return all(n.op_type in CONVERTERS and n.domain in ("", "ai.onnx") for n in model.graph.node)

    @classmethod
    def supports_device(cls, device):
        from . import devices

        return str(device).upper() == "CPU" or (str(device).upper() == "CUDA" and
                                                 any(str(d).startswith("cuda") for d in devices()))

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        return BackendRep(model, "cuda" if str(device).upper().startswith("CUDA") else "cpu")

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        return cls.prepare(model, device).run(inputs)

    @classmethod
    def run_node(cls, node, inputs, device="CPU", outputs_info=None, **kwargs):
        raise NotImplementedError("run_node: build a model around the node and use run_model")
