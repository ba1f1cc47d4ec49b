#include "tensorstitch/composites.h"

#include <limits>

#include "tensorstitch/error.h"

namespace ts {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();

Tensor op1(Graph& g, const char* type, const std::vector<Tensor>& in, const Attrs& attrs = {},
           const std::string& name = "") {
  return g.op(type, in, attrs, name)[0];
}
std::string sub(const std::string& name, const char* part) { return name.empty() ? "" : name + "/" + part; }

std::string dims_text(const TensorType& t) {
  if (!t.ranked) return "(unknown rank)";
  std::string s = "(";
  for (size_t i = 0; i < t.dims.size(); ++i) s += (i ? ", " : "") + std::to_string(t.dims[i]);
  return s + (t.dims.size() == 1 ? ",)" : ")");
}

}  // namespace

DType weak_scalar_dtype(ScalarKind kind, std::optional<DType> like) {
  switch (kind) {
    case ScalarKind::Bool: return DType::Bool;
    case ScalarKind::Int: return like && *like != DType::Bool ? *like : DType::Int32;
    case ScalarKind::Float: return like && is_floating(*like) ? *like : DType::Float32;
  }
  return DType::Float32;
}

Tensor scalar_constant(Graph& g, double value, DType dtype) { return g.constant(NDArray::full({}, dtype, value)); }

Tensor sgd(Graph& g, const Tensor& learning_rate, const Tensor& value, const Tensor& gradient, const std::string& name) {
  return op1(g, "subtract", {value, op1(g, "multiply", {learning_rate, gradient})}, {}, name);
}

std::array<Tensor, 3> adam(Graph& g, const Tensor& learning_rate, const Tensor& beta1, const Tensor& beta2,
                           const Tensor& epsilon, const Tensor& value, const Tensor& gradient, const Tensor& m,
                           const Tensor& v, const Tensor& step, const std::string& name) {
  const DType dt = value.dtype();
  const Tensor one = scalar_constant(g, 1, dt);
  const Tensor t = step.dtype() == dt ? step : op1(g, "cast", {step}, {{"dtype", dt}});
  auto mul = [&](const Tensor& a, const Tensor& b) { return op1(g, "multiply", {a, b}); };
  auto add = [&](const Tensor& a, const Tensor& b) { return op1(g, "add", {a, b}); };
  auto minus = [&](const Tensor& a, const Tensor& b) { return op1(g, "subtract", {a, b}); };
  const Tensor m_new = add(mul(beta1, m), mul(minus(one, beta1), gradient));
  const Tensor v_new = add(mul(beta2, v), mul(minus(one, beta2), op1(g, "square", {gradient})));
  // The bias-corrected step size.
  const Tensor lr_t = op1(g, "divide", {mul(learning_rate, op1(g, "square_root", {minus(one, op1(g, "power", {beta2, t}))})),
                                        minus(one, op1(g, "power", {beta1, t}))});
  const Tensor update = op1(g, "divide", {mul(lr_t, m_new), add(op1(g, "square_root", {v_new}), epsilon)});
  return {op1(g, "subtract", {value, update}, {}, name), m_new, v_new};
}

std::pair<Tensor, Tensor> mean_variance(Graph& g, const Tensor& x, const std::optional<std::vector<int64_t>>& axes,
                                        bool keepdims, const std::string& name) {
  Attrs keep{{"keepdims", int64_t(1)}};
  if (axes) keep["axes"] = *axes;
  Tensor mean = op1(g, "reduce_mean", {x}, keep, sub(name, "mean"));
  Attrs var_attrs{{"keepdims", int64_t(keepdims)}};
  if (axes) var_attrs["axes"] = *axes;
  const Tensor var = op1(g, "reduce_mean", {op1(g, "square", {op1(g, "subtract", {x, mean})})}, var_attrs,
                         sub(name, "variance"));
  if (!keepdims) {
    std::vector<int64_t> squeezed;
    if (axes) squeezed = *axes;
    else for (int64_t d = 0; d < int64_t(x.type().dims.size()); ++d) squeezed.push_back(d);
    if (axes || x.type().ranked) mean = op1(g, "squeeze", {mean}, {{"axes", squeezed}});
    else mean = op1(g, "reshape_like", {mean, var});
  }
  return {mean, var};
}

Tensor normalize(Graph& g, const Tensor& x, const Tensor& mean, const Tensor& variance,
                 const std::optional<Tensor>& gamma, const std::optional<Tensor>& beta, double epsilon,
                 const std::string& name) {
  if (!is_floating(x.dtype()))
    throw DTypeError("normalize '" + name + "': got " + std::string(dtype_name(x.dtype())) + " x; expected a float dtype");
  const Tensor eps = scalar_constant(g, epsilon, x.dtype());
  Tensor y = op1(g, "multiply", {op1(g, "subtract", {x, mean}),
                                 op1(g, "reciprocal_square_root", {op1(g, "add", {variance, eps})})});
  if (gamma) y = op1(g, "multiply", {y, *gamma});
  if (beta) y = op1(g, "add", {y, *beta});
  return op1(g, "identity", {y}, {}, name);
}

Tensor logsumexp(Graph& g, const Tensor& x, const std::optional<std::vector<int64_t>>& axes, bool keepdims,
                 const std::string& name) {
  Attrs keep{{"keepdims", int64_t(1)}};
  if (axes) keep["axes"] = *axes;
  // The maximum only keeps exp() in range; its gradient would cancel exactly.
  const Tensor m = op1(g, "stop_gradient", {op1(g, "reduce_max", {x}, keep)});
  // An all -inf slice has maximum -inf: shift by 0 there, so the result is -inf, not NaN.
  const Tensor finite = op1(g, "select", {op1(g, "is_finite", {m}), m, scalar_constant(g, 0, m.dtype())});
  Attrs sum_attrs{{"keepdims", int64_t(keepdims)}};
  if (axes) sum_attrs["axes"] = *axes;
  const Tensor s = op1(g, "reduce_sum", {op1(g, "exp", {op1(g, "subtract", {x, finite})})}, sum_attrs);
  Tensor shift = finite;
  if (!keepdims) {
    std::vector<int64_t> squeezed;
    if (axes) squeezed = *axes;
    else for (int64_t d = 0; d < int64_t(x.type().dims.size()); ++d) squeezed.push_back(d);
    shift = axes || x.type().ranked ? op1(g, "squeeze", {finite}, {{"axes", squeezed}}) : op1(g, "reshape_like", {finite, s});
  }
  return op1(g, "add", {op1(g, "log", {s}), shift}, {}, name);
}

Reduction parse_reduction(const std::string& text, const std::string& op) {
  if (text == "sum") return Reduction::Sum;
  if (text == "mean") return Reduction::Mean;
  if (text == "none") return Reduction::None;
  throw GraphError(op + ": reduction '" + text + "' is not one of 'sum', 'mean', 'none'");
}

namespace {

Tensor reduce_loss(Graph& g, const Tensor& per_element, Reduction how, const std::string& name) {
  if (how == Reduction::None) return op1(g, "identity", {per_element}, {}, name);
  return op1(g, how == Reduction::Sum ? "reduce_sum" : "reduce_mean", {per_element}, {}, name);
}

// Losses compare logits and labels of one shape (a broadcast would hide a
// mislabelled batch).
void check_labels(const Tensor& logits, const Tensor& labels, const std::string& op, const std::string& name) {
  const TensorType &a = logits.type(), &b = labels.type();
  std::string where = op + " '" + name + "'";
  if (!is_floating(a.dtype) || a.dtype != b.dtype)
    throw DTypeError(where + ": got logits " + a.str() + " and labels " + b.str() + "; expected one float dtype");
  bool same = a.ranked == b.ranked && (!a.ranked || a.dims.size() == b.dims.size());
  for (size_t d = 0; same && a.ranked && d < a.dims.size(); ++d)
    same = a.dims[d] == b.dims[d] || a.dims[d] < 0 || b.dims[d] < 0;
  if (!same) throw ShapeError(where + ": labels " + b.str() + " must have the logits' shape " + a.str());
}

}  // namespace

Tensor softmax_cross_entropy(Graph& g, const Tensor& logits, const Tensor& labels, int64_t axis, Reduction reduction,
                             const std::string& name) {
  check_labels(logits, labels, "softmax_cross_entropy", name);
  const std::vector<int64_t> axes{axis};
  const Tensor lse = logsumexp(g, logits, axes, true);
  const Tensor log_p = op1(g, "subtract", {logits, lse});
  const Tensor per_row = op1(g, "negative", {op1(g, "reduce_sum", {op1(g, "multiply", {labels, log_p})}, {{"axes", axes}})});
  return reduce_loss(g, per_row, reduction, name);
}

Tensor sigmoid_cross_entropy(Graph& g, const Tensor& logits, const Tensor& labels, Reduction reduction,
                             const std::string& name) {
  check_labels(logits, labels, "sigmoid_cross_entropy", name);
  const Tensor per_element =
      op1(g, "add", {op1(g, "subtract", {op1(g, "relu", {logits}), op1(g, "multiply", {logits, labels})}),
                     op1(g, "log1p", {op1(g, "exp", {op1(g, "negative", {op1(g, "abs", {logits})})})})});
  return reduce_loss(g, per_element, reduction, name);
}

Tensor leaky_relu(Graph& g, const Tensor& x, double alpha, const std::string& name) {
  if (!is_floating(x.dtype()))
    throw DTypeError("leaky_relu '" + name + "': got " + std::string(dtype_name(x.dtype())) + " x; expected a float dtype");
  const Tensor zero = scalar_constant(g, 0, x.dtype());
  return op1(g, "select", {op1(g, "greater", {x, zero}), x, op1(g, "multiply", {x, scalar_constant(g, alpha, x.dtype())})},
             {}, name);
}

Tensor softplus(Graph& g, const Tensor& x, const std::string& name) {
  return op1(g, "add", {op1(g, "relu", {x}), op1(g, "log1p", {op1(g, "exp", {op1(g, "negative", {op1(g, "abs", {x})})})})},
             {}, name);
}

Tensor silu(Graph& g, const Tensor& x, const std::string& name) {
  return op1(g, "multiply", {x, op1(g, "sigmoid", {x})}, {}, name);
}

Tensor dropout(Graph& g, const Tensor& x, double rate, int64_t seed, const std::string& name) {
  if (!is_floating(x.dtype()))
    throw DTypeError("dropout '" + name + "': got " + std::string(dtype_name(x.dtype())) + " x; expected a float dtype");
  if (!(rate >= 0 && rate < 1)) throw GraphError("dropout '" + name + "': rate must be in [0, 1); got " + std::to_string(rate));
  if (rate == 0) return op1(g, "identity", {x}, {}, name);
  const Tensor u = op1(g, "random_uniform", {x},
                       {{"dtype", DType::Float32}, {"seed", seed}, {"low", 0.0}, {"high", 1.0}}, sub(name, "uniform"));
  const Tensor keep = op1(g, "greater_equal", {u, scalar_constant(g, rate, DType::Float32)});
  const Tensor scaled = op1(g, "multiply", {x, scalar_constant(g, 1.0 / (1.0 - rate), x.dtype())});
  return op1(g, "select", {keep, scaled, scalar_constant(g, 0, x.dtype())}, {}, name);
}

namespace {

// One spatial dimension of a pooling: its padding and output length.
struct PoolDim {
  int64_t before = 0, after = 0, out = 0;
};

PoolDim pool_dim(const std::string& where, const Pool2d& d, int k, int64_t in) {
  PoolDim p;
  const int64_t kernel = d.kernel[size_t(k)], stride = d.strides[size_t(k)];
  if (d.padding == "SAME") {
    p.out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((p.out - 1) * stride + kernel - in, 0);
    p.before = total / 2;
    p.after = total - p.before;
    return p;
  }
  if (d.padding == "EXPLICIT") {
    p.before = d.pads[size_t(2 * k)];
    p.after = d.pads[size_t(2 * k + 1)];
    if (p.before < 0 || p.after < 0) throw ShapeError(where + ": negative padding");
  }
  const int64_t padded = in + p.before + p.after;
  if (kernel > padded)
    throw ShapeError(where + ": the window (" + std::to_string(kernel) + ") is larger than the padded input (" +
                     std::to_string(padded) + ")");
  p.out = (padded - kernel) / stride + 1;
  return p;
}

// The pool2d op for a descriptor, checked.
Tensor pool(Graph& g, const Tensor& x, const Pool2d& d, const std::string& op, const std::string& name) {
  const std::string where = op + " '" + name + "'";
  const TensorType& t = x.type();
  if (!is_floating(t.dtype)) throw DTypeError(where + ": got " + t.str() + "; expected a float dtype");
  if (d.layout != "NCHW" && d.layout != "NHWC")
    throw GraphError(where + ": unknown data layout '" + d.layout + "'; expected 'NCHW' or 'NHWC'");
  if (d.padding != "VALID" && d.padding != "SAME" && d.padding != "EXPLICIT")
    throw GraphError(where + ": unknown padding '" + d.padding + "'; expected 'VALID', 'SAME' or explicit pads");
  for (int k = 0; k < 2; ++k)
    if (d.kernel[size_t(k)] < 1 || d.strides[size_t(k)] < 1)
      throw ShapeError(where + ": kernel and strides must be >= 1; got kernel (" + std::to_string(d.kernel[0]) + ", " +
                       std::to_string(d.kernel[1]) + ") and strides (" + std::to_string(d.strides[0]) + ", " +
                       std::to_string(d.strides[1]) + ")");
  if (!t.ranked || t.dims.size() != 4) throw ShapeError(where + ": got " + t.str() + "; expected a 4-D " + d.layout + " input");
  const int h = d.layout == "NCHW" ? 2 : 1;  // the height axis; width follows it
  if (t.dims[size_t(h)] < 0 || t.dims[size_t(h + 1)] < 0)
    throw ShapeError(where + ": the spatial dimensions of " + t.str() + " must be known");
  const PoolDim ph = pool_dim(where, d, 0, t.dims[size_t(h)]), pw = pool_dim(where, d, 1, t.dims[size_t(h + 1)]);
  return op1(g, "pool2d", {x},
             {{"mode", std::string(op == "max_pool2d" ? "max" : "avg")},
              {"layout", d.layout},
              {"kernel", std::vector<int64_t>{d.kernel[0], d.kernel[1]}},
              {"strides", std::vector<int64_t>{d.strides[0], d.strides[1]}},
              {"dilations", std::vector<int64_t>{1, 1}},
              {"pads", std::vector<int64_t>{ph.before, ph.after, pw.before, pw.after}}},
             name);
}

}  // namespace

namespace {

Tensor permute(Graph& g, const Tensor& x, std::vector<int64_t> perm) { return op1(g, "transpose", {x}, {{"perm", perm}}); }

}  // namespace

Tensor conv2d(Graph& g, const Tensor& x_in, const Tensor& w_in, const Conv2d& d, const std::string& name) {
  const std::string where = "conv2d '" + name + "'";
  const TensorType &xt = x_in.type(), &wt = w_in.type();
  if (!is_floating(xt.dtype) || xt.dtype != wt.dtype)
    throw DTypeError(where + ": got x " + xt.str() + " and weights " + wt.str() + "; expected one float dtype");
  if (d.data_layout != "NCHW" && d.data_layout != "NHWC")
    throw GraphError(where + ": unknown data layout '" + d.data_layout + "'; expected 'NCHW' or 'NHWC'");
  if (d.weights_layout != "OIHW" && d.weights_layout != "HWIO")
    throw GraphError(where + ": unknown weights layout '" + d.weights_layout + "'; expected 'OIHW' or 'HWIO'");
  if (!xt.ranked || xt.dims.size() != 4 || !wt.ranked || wt.dims.size() != 4)
    throw ShapeError(where + ": got x " + xt.str() + " and weights " + wt.str() + "; expected 4-D tensors");
  for (int k = 0; k < 2; ++k)
    if (d.strides[size_t(k)] < 1 || d.dilations[size_t(k)] < 1)
      throw ShapeError(where + ": strides and dilations must be >= 1");
  // Work in NHWC with HWIO weights.
  const Tensor x = d.data_layout == "NCHW" ? permute(g, x_in, {0, 2, 3, 1}) : x_in;
  const Tensor w = d.weights_layout == "OIHW" ? permute(g, w_in, {2, 3, 1, 0}) : w_in;
  const Dims &xs = x.type().dims, &ws = w.type().dims;
  const int64_t channels = xs[3], kh = ws[0], kw = ws[1], per_group = ws[2], out_channels = ws[3], groups = d.groups;
  if (xs[1] < 0 || xs[2] < 0 || channels < 0) throw ShapeError(where + ": the spatial and channel dimensions of x must be known");
  for (int64_t v : ws)
    if (v < 0) throw ShapeError(where + ": the weights' shape " + wt.str() + " must be known");
  if (groups < 1 || channels % groups || out_channels % groups || per_group * groups != channels)
    throw ShapeError(where + ": x has " + std::to_string(channels) + " channels, the weights " + wt.str() + " take " +
                     std::to_string(per_group) + " per group in " + std::to_string(groups) + " group(s)");
  // Padding and output size as pooling by the dilated kernel's extent.
  Pool2d window;
  window.kernel = {(kh - 1) * d.dilations[0] + 1, (kw - 1) * d.dilations[1] + 1};
  window.strides = d.strides;
  window.padding = d.padding;
  window.pads = d.pads;
  if (d.padding != "VALID" && d.padding != "SAME" && d.padding != "EXPLICIT")
    throw GraphError(where + ": unknown padding '" + d.padding + "'; expected 'VALID', 'SAME' or explicit pads");
  const PoolDim ph = pool_dim(where, window, 0, xs[1]), pw = pool_dim(where, window, 1, xs[2]);
  // Each output pixel's window as one row of kh * kw * C values, then one
  // product with the weights as a (kh * kw * C, O) matrix (per group).
  const Tensor cols = op1(g, "im2col", {x},
                          {{"kernel", std::vector<int64_t>{kh, kw}},
                           {"strides", std::vector<int64_t>{d.strides[0], d.strides[1]}},
                           {"dilations", std::vector<int64_t>{d.dilations[0], d.dilations[1]}},
                           {"pads", std::vector<int64_t>{ph.before, ph.after, pw.before, pw.after}}});
  const int64_t og = out_channels / groups, taps = kh * kw;
  auto reshape = [&](const Tensor& t, std::vector<int64_t> shape) { return op1(g, "reshape", {t}, {{"shape", shape}}); };
  Tensor rows;
  if (groups == 1) {
    rows = op1(g, "matmul", {reshape(cols, {-1, taps * channels}), reshape(w, {taps * channels, out_channels})});
  } else {
    // Rows (M, taps, G, per_group) -> (G, M, taps * per_group), weights
    // (taps * per_group, G, og) -> (G, taps * per_group, og): one batched product.
    const Tensor a = reshape(permute(g, reshape(cols, {-1, taps, groups, per_group}), {2, 0, 1, 3}),
                             {groups, -1, taps * per_group});
    const Tensor b = permute(g, reshape(w, {taps * per_group, groups, og}), {1, 0, 2});
    rows = reshape(permute(g, op1(g, "matmul", {a, b}), {1, 0, 2}), {-1, out_channels});
  }
  const Tensor y = reshape(rows, {xs[0] < 0 ? -1 : xs[0], ph.out, pw.out, out_channels});
  return op1(g, "identity", {d.data_layout == "NCHW" ? permute(g, y, {0, 3, 1, 2}) : y}, {}, name);
}

Tensor conv2d_transpose(Graph& g, const Tensor& x, const Tensor& w, const std::vector<int64_t>& input_shape,
                        const Conv2d& d, const std::string& name) {
  const std::string where = "conv2d_transpose '" + name + "'";
  if (input_shape.size() != 4) throw ShapeError(where + ": output_shape must have 4 dimensions");
  for (int64_t v : input_shape)
    if (v < 0) throw ShapeError(where + ": output_shape must be known (no -1)");
  const Tensor zeros = g.constant(NDArray::zeros(input_shape, x.dtype()));
  const Tensor y = conv2d(g, zeros, w, d, name.empty() ? "" : name + "/forward");
  const TensorType &yt = y.type(), &xt = x.type();
  bool fits = xt.ranked && xt.dims.size() == 4;
  for (size_t k = 0; fits && k < 4; ++k) fits = xt.dims[k] < 0 || xt.dims[k] == yt.dims[k];
  if (!fits)
    throw ShapeError(where + ": x " + xt.str() + " is not what a conv2d of the output shape " + dims_text(zeros.type()) +
                     " gives (" + yt.str() + ")");
  // conv2d is linear in its input: the gradient of sum(conv2d(z) * x) with
  // respect to z is the transposed convolution of x, whatever z holds.
  return op1(g, "identity", {g.gradients(op1(g, "multiply", {y, x}), {zeros})[0]}, {}, name);
}

Tensor max_pool2d(Graph& g, const Tensor& x, const Pool2d& d, const std::string& name) {
  return pool(g, x, d, "max_pool2d", name);
}

Tensor avg_pool2d(Graph& g, const Tensor& x, const Pool2d& d, const std::string& name) {
  return pool(g, x, d, "avg_pool2d", name);
}

namespace {

// The `count` equal parts of x along its last axis.
std::vector<Tensor> gates_of(Graph& g, const Tensor& x, int64_t count) {
  return g.op("split", {x}, {{"axis", int64_t(-1)}, {"count", count}});
}

Tensor sigmoid(Graph& g, const Tensor& x) { return op1(g, "sigmoid", {x}); }

// The recurrent weights' hidden size, checked against the gate count.
int64_t hidden_size(const std::string& where, const Tensor& w_recurrent, int64_t gates) {
  const TensorType& t = w_recurrent.type();
  if (!t.ranked || t.dims.size() != 2 || t.dims[0] < 0 || t.dims[1] != gates * t.dims[0])
    throw ShapeError(where + ": recurrent weights " + t.str() + " must be (hidden, " + std::to_string(gates) + " * hidden)");
  return t.dims[0];
}

// A sequence's steps: x (time, batch, features) of known length, each step
// projected by w (the input part of every step in one product) plus `bias`.
std::vector<Tensor> projected_steps(Graph& g, const std::string& where, const Tensor& x, const Tensor& w,
                                    const Tensor& bias) {
  const TensorType& t = x.type();
  if (!t.ranked || t.dims.size() != 3 || t.dims[0] < 0)
    throw ShapeError(where + ": got x " + t.str() + "; expected (time, batch, input) with a known length");
  const Tensor all = op1(g, "add", {op1(g, "matmul", {x, w}), bias});
  std::vector<Tensor> steps;
  for (int64_t s = 0; s < t.dims[0]; ++s)
    steps.push_back(op1(g, "squeeze", {op1(g, "slice", {all}, {{"starts", std::vector<int64_t>{s}},
                                                               {"ends", std::vector<int64_t>{s + 1}},
                                                               {"strides", std::vector<int64_t>{1}}})},
                        {{"axes", std::vector<int64_t>{0}}}));
  return steps;
}

// A zero state (batch, hidden) shaped after step 0's projection.
Tensor zero_state(Graph& g, const Tensor& step, int64_t gates) {
  const Tensor part = gates_of(g, step, gates)[0];
  return op1(g, "multiply", {part, scalar_constant(g, 0, part.dtype())});
}

std::array<Tensor, 2> lstm_step(Graph& g, const Tensor& projected, const Tensor& h, const Tensor& c,
                                const Tensor& w_recurrent, const std::string& name) {
  const std::vector<Tensor> q = gates_of(g, op1(g, "add", {projected, op1(g, "matmul", {h, w_recurrent})}), 4);
  const Tensor c_new = op1(g, "add", {op1(g, "multiply", {sigmoid(g, q[1]), c}),
                                      op1(g, "multiply", {sigmoid(g, q[0]), op1(g, "tanh", {q[2]})})},
                           {}, sub(name, "c"));
  const Tensor h_new = op1(g, "multiply", {sigmoid(g, q[3]), op1(g, "tanh", {c_new})}, {}, sub(name, "h"));
  return {h_new, c_new};
}

Tensor gru_step(Graph& g, const Tensor& projected, const Tensor& h, const Tensor& w_recurrent,
                const Tensor& recurrent_bias, const std::string& name) {
  const std::vector<Tensor> a = gates_of(g, projected, 3);
  const std::vector<Tensor> b = gates_of(g, op1(g, "add", {op1(g, "matmul", {h, w_recurrent}), recurrent_bias}), 3);
  const Tensor r = sigmoid(g, op1(g, "add", {a[0], b[0]})), z = sigmoid(g, op1(g, "add", {a[1], b[1]}));
  const Tensor n = op1(g, "tanh", {op1(g, "add", {a[2], op1(g, "multiply", {r, b[2]})})});
  // (1 - z) n + z h = n + z (h - n)
  return op1(g, "add", {n, op1(g, "multiply", {z, op1(g, "subtract", {h, n})})}, {}, name);
}

}  // namespace

std::array<Tensor, 2> lstm_cell(Graph& g, const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_input,
                                const Tensor& w_recurrent, const Tensor& bias, const std::string& name) {
  hidden_size("lstm_cell '" + name + "'", w_recurrent, 4);
  const Tensor projected = op1(g, "add", {op1(g, "matmul", {x, w_input}), bias});
  return lstm_step(g, projected, h, c, w_recurrent, name);
}

std::array<Tensor, 3> lstm(Graph& g, const Tensor& x, const std::optional<Tensor>& h0, const std::optional<Tensor>& c0,
                           const Tensor& w_input, const Tensor& w_recurrent, const Tensor& bias, const std::string& name) {
  const std::string where = "lstm '" + name + "'";
  hidden_size(where, w_recurrent, 4);
  const std::vector<Tensor> steps = projected_steps(g, where, x, w_input, bias);
  if (steps.empty()) throw ShapeError(where + ": the sequence is empty");
  Tensor h = h0 ? *h0 : zero_state(g, steps[0], 4), c = c0 ? *c0 : zero_state(g, steps[0], 4);
  std::vector<Tensor> outputs;
  for (const Tensor& step : steps) {
    const auto [h_new, c_new] = lstm_step(g, step, h, c, w_recurrent, "");
    h = h_new;
    c = c_new;
    outputs.push_back(h);
  }
  return {stack(g, outputs, 0, sub(name, "outputs")), op1(g, "identity", {h}, {}, sub(name, "h")),
          op1(g, "identity", {c}, {}, sub(name, "c"))};
}

Tensor gru_cell(Graph& g, const Tensor& x, const Tensor& h, const Tensor& w_input, const Tensor& w_recurrent,
                const Tensor& bias, const Tensor& recurrent_bias, const std::string& name) {
  hidden_size("gru_cell '" + name + "'", w_recurrent, 3);
  return gru_step(g, op1(g, "add", {op1(g, "matmul", {x, w_input}), bias}), h, w_recurrent, recurrent_bias, name);
}

std::array<Tensor, 2> gru(Graph& g, const Tensor& x, const std::optional<Tensor>& h0, const Tensor& w_input,
                          const Tensor& w_recurrent, const Tensor& bias, const Tensor& recurrent_bias,
                          const std::string& name) {
  const std::string where = "gru '" + name + "'";
  hidden_size(where, w_recurrent, 3);
  const std::vector<Tensor> steps = projected_steps(g, where, x, w_input, bias);
  if (steps.empty()) throw ShapeError(where + ": the sequence is empty");
  Tensor h = h0 ? *h0 : zero_state(g, steps[0], 3);
  std::vector<Tensor> outputs;
  for (const Tensor& step : steps) {
    h = gru_step(g, step, h, w_recurrent, recurrent_bias, "");
    outputs.push_back(h);
  }
  return {stack(g, outputs, 0, sub(name, "outputs")), op1(g, "identity", {h}, {}, sub(name, "h"))};
}

Tensor stack(Graph& g, const std::vector<Tensor>& tensors, int64_t axis, const std::string& name) {
  std::vector<Tensor> expanded;
  for (const Tensor& t : tensors) expanded.push_back(op1(g, "expand_dims", {t}, {{"axes", std::vector<int64_t>{axis}}}));
  return op1(g, "concat", expanded, {{"axis", axis}}, name);
}

Tensor basic_index(Graph& g, const Tensor& x, const std::vector<IndexEntry>& key_in) {
  using K = IndexEntry::Kind;
  const TensorType& type = x.type();
  std::vector<IndexEntry> key = key_in;
  size_t ellipses = 0;
  for (const IndexEntry& e : key) ellipses += e.kind == K::Ellipsis;
  if (ellipses > 1) throw GraphError("indexing '" + x.name() + "': an index can only have a single ellipsis ('...')");
  auto ellipsis_at = [&] {
    for (size_t i = 0; i < key.size(); ++i)
      if (key[i].kind == K::Ellipsis) return i;
    return key.size();
  };
  if (ellipses && type.ranked) {  // the ellipsis stands for the dimensions not indexed
    int64_t used = 0;
    for (const IndexEntry& e : key) used += e.kind == K::Int || e.kind == K::Slice;
    const size_t at = ellipsis_at();
    key.erase(key.begin() + at);
    key.insert(key.begin() + at, size_t(std::max<int64_t>(0, int64_t(type.dims.size()) - used)), IndexEntry{});
  }
  const size_t split = ellipsis_at();
  const std::vector<IndexEntry> head(key.begin(), key.begin() + split);
  const std::vector<IndexEntry> tail(key.begin() + std::min(split + 1, key.size()), key.end());
  Dims starts, ends, steps;
  std::vector<int64_t> squeeze, new_axes;
  auto add_entry = [&](const IndexEntry& e, std::optional<size_t> dim) {
    if (e.kind == K::Slice) {
      if (e.step == 0) throw ShapeError("slice step cannot be zero (indexing '" + x.name() + "')");
      starts.push_back(e.start ? *e.start : (e.step > 0 ? 0 : kMax));
      ends.push_back(e.stop ? *e.stop : (e.step > 0 ? kMax : kMin));
      steps.push_back(e.step);
      return false;
    }
    const int64_t k = *e.start;
    if (dim && type.ranked && *dim < type.dims.size() && type.dims[*dim] >= 0) {
      const int64_t n = type.dims[*dim];
      if (k < -n || k >= n)
        throw ShapeError("index " + std::to_string(k) + " is out of range for dimension " + std::to_string(*dim) +
                         " of '" + x.name() + "' with shape " + dims_text(type));
    }
    starts.push_back(k);
    ends.push_back(k != -1 ? k + 1 : kMax);
    steps.push_back(1);
    return true;
  };
  for (const IndexEntry& e : head) {  // dimensions counted from the front
    if (e.kind == K::NewAxis) new_axes.push_back(int64_t(starts.size() - squeeze.size() + new_axes.size()));
    else if (add_entry(e, starts.size())) squeeze.push_back(int64_t(starts.size()) - 1);
  }
  // After an ellipsis on a tensor of unknown rank: dimensions counted from the end.
  int64_t tail_entries = 0;
  for (const IndexEntry& e : tail) tail_entries += e.kind != K::NewAxis;
  const int64_t indexed = int64_t(starts.size()) + tail_entries;
  if (type.ranked && indexed > int64_t(type.dims.size()))
    throw ShapeError("too many indices (" + std::to_string(indexed) + ") for '" + x.name() + "' with shape " +
                     dims_text(type));
  int64_t seen = 0;
  for (const IndexEntry& e : tail)
    if (e.kind != K::NewAxis) {
      ++seen;
      if (add_entry(e, std::nullopt)) squeeze.push_back(seen - 1 - tail_entries);
    }
  int64_t kept_after = 0;  // result dimensions after this point, for new axes counted from the end
  for (auto it = tail.rbegin(); it != tail.rend(); ++it) {
    if (it->kind == K::NewAxis) new_axes.push_back(-1 - kept_after++);
    else if (it->kind == K::Slice) ++kept_after;
  }
  Tensor y = x;
  if (!starts.empty()) {
    Attrs a{{"starts", starts}, {"ends", ends}, {"strides", steps}};
    if (tail_entries) a["trailing"] = tail_entries;
    y = op1(g, "slice", {x}, a);
  }
  if (!squeeze.empty()) y = op1(g, "squeeze", {y}, {{"axes", squeeze}});
  if (!new_axes.empty()) y = op1(g, "expand_dims", {y}, {{"axes", new_axes}});
  return y;
}

}  // namespace ts
