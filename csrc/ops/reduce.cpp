// Reductions (sum, mean, max, min, prod, argmax, argmin) and sum_to_like, the
// adjoint of broadcasting.
#include "ops/infer_util.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

bool keepdims(const InferCtx& c) { return c.has("keepdims") && c.i("keepdims") != 0; }

TensorType reduce_type(InferCtx& c, DType out) {
  const TensorType& x = c.in[0];
  if (!x.ranked) return (c.has("axes") || keepdims(c)) ? unranked(out) : ranked({}, out);
  std::vector<int> axes = reduced_axes(c, int(x.dims.size()));
  Dims dims;
  for (int d = 0, k = 0; d < int(x.dims.size()); ++d) {
    bool r = k < int(axes.size()) && axes[k] == d;
    if (r) ++k;
    if (!r) dims.push_back(x.dims[d]);
    else if (keepdims(c)) dims.push_back(1);
  }
  return ranked(dims, out);
}

// NumPy's rule: sums and products of bools and of integers narrower than
// int64 accumulate in int64, so [2**31 - 1, 1] sums to 2**31.
std::vector<TensorType> infer_sum(InferCtx& c) {
  return {reduce_type(c, is_floating(c.in[0].dtype) ? c.in[0].dtype : DType::Int64)};
}
std::vector<TensorType> infer_mean(InferCtx& c) {
  return {reduce_type(c, is_floating(c.in[0].dtype) ? c.in[0].dtype : DType::Float32)};
}
std::vector<TensorType> infer_same(InferCtx& c) { return {reduce_type(c, c.in[0].dtype)}; }

// ---- gradients ----
// dy reshaped to the keepdims shape, then broadcast to x.
Tensor spread(GradCtx& c, const Tensor& t) {
  const Tensor& x = c.x[0];
  Tensor kept = t;
  bool keep = c.flag("keepdims");
  if (!keep && !x.type().ranked) {
    // The rank is known only at run time: take the keepdims shape from the
    // same reduction with keepdims set, read only for its shape.
    Attrs kept_attrs = c.attrs();
    kept_attrs["keepdims"] = int64_t(1);
    kept = c.op("reshape_like", {t, c.op(c.node.type, {x}, kept_attrs)});
  } else if (!keep) {
    std::vector<int64_t> axes;
    if (c.has("axes")) axes = c.ints("axes");
    else for (int d = 0; d < c.rank(x); ++d) axes.push_back(d);
    for (int64_t& a : axes) if (a < 0) a += c.rank(x);
    if (!axes.empty()) kept = c.op("expand_dims", {t}, {{"axes", axes}});
  }
  return c.broadcast_like(kept, x);
}
Grads g_sum(GradCtx& c) { return {spread(c, c.dy[0])}; }
Grads g_mean(GradCtx& c) {
  const Tensor &x = c.x[0], &y = c.y[0];
  Tensor nx = c.op("reduce_prod", {c.op("shape_of", {x})}), ny = c.op("reduce_prod", {c.op("shape_of", {y})});
  Tensor count = c.op("cast", {c.op("floor_divide", {nx, ny})}, {{"dtype", y.dtype()}});
  return {c.div(spread(c, c.dy[0]), count)};
}
Grads g_extremum(GradCtx& c) {
  const Tensor& x = c.x[0];
  Tensor mask = c.op("cast", {c.op("equal", {x, spread(c, c.y[0])})}, {{"dtype", x.dtype()}});
  Tensor ties = c.op("reduce_sum", {mask}, c.attrs());  // shaped like y; ties share the gradient
  return {c.div(c.mul(mask, spread(c, c.dy[0])), spread(c, ties))};
}
// d prod / dx_i is the product of the other elements. Dividing y by x_i is
// NaN at zeros, so count the zeros of each reduced group (as PyTorch does):
// none, the product of the rest is prod/x_i; one, only the zero gets the
// product of the nonzeros; more, every gradient is zero.
Grads g_prod(GradCtx& c) {
  const Tensor& x = c.x[0];
  Attrs kept = c.attrs();
  kept["keepdims"] = int64_t(1);
  auto group = [&](const char* op, const Tensor& t) { return c.broadcast_like(c.op(op, {t}, kept), x); };
  const Tensor zero = c.c(0, x), one = c.c(1, x);
  Tensor is_zero = c.op("equal", {x, zero});
  Tensor zeros = group("reduce_sum", c.op("cast", {is_zero}, {{"dtype", x.dtype()}}));
  Tensor nonzero = c.op("select", {is_zero, one, x});
  Tensor rest = group("reduce_prod", nonzero);
  Tensor none = c.op("equal", {zeros, zero});
  Tensor the_zero = c.op("logical_and", {is_zero, c.op("equal", {zeros, one})});
  Tensor others = c.op("select", {none, c.div(rest, nonzero), c.op("select", {the_zero, rest, zero})});
  return {c.mul(spread(c, c.dy[0]), others)};
}

// ---- argmax / argmin over one axis (absent: the flattened input) ----
std::vector<TensorType> infer_arg(InferCtx& c) {
  const TensorType& x = c.in[0];
  if (!x.ranked) return {c.has("axis") || keepdims(c) ? unranked(DType::Int64) : ranked({}, DType::Int64)};
  int rank = int(x.dims.size());
  if (!c.has("axis")) {
    int64_t n = 1;
    for (int64_t d : x.dims) n = (n < 0 || d < 0) ? -1 : n * d;
    if (n == 0) c.fail("cannot take " + c.node.type + " of the empty input " + x.str());
    return {ranked(keepdims(c) ? Dims(rank, 1) : Dims{}, DType::Int64)};
  }
  int axis = normalize_axis(c, c.i("axis"), rank);
  if (x.dims[axis] == 0) c.fail("cannot take " + c.node.type + " over the empty axis " + std::to_string(axis) + " of " + x.str());
  Dims dims = x.dims;
  if (keepdims(c)) dims[axis] = 1;
  else dims.erase(dims.begin() + axis);
  return {ranked(dims, DType::Int64)};
}

// ---- sum_to_like(x, like): x summed over broadcast dims to like's shape ----
std::vector<TensorType> infer_sum_to_like(InferCtx& c) {
  TensorType t = c.in[1];
  t.dtype = c.in[0].dtype;
  if (t.ranked && c.in[0].ranked) broadcast(c, {c.in[0], c.in[1]}, t.dtype);
  return {t};
}
Grads g_sum_to_like(GradCtx& c) { return {c.broadcast_like(c.dy[0], c.x[0]), Tensor()}; }

const bool registered = [] {
  auto reduction = [](const char* name, InferFn infer, GradFn grad, Combiner combiner) {
    OpDef d = make_op(name, OpClass::Reduction, 1, infer, grad);
    d.reduction = combiner;
    register_op(d);
  };
  reduction("reduce_sum", infer_sum, g_sum, Combiner::Sum);
  reduction("reduce_mean", infer_mean, g_mean, Combiner::Mean);
  reduction("reduce_max", infer_same, g_extremum, Combiner::Max);
  reduction("reduce_min", infer_same, g_extremum, Combiner::Min);
  reduction("reduce_prod", infer_sum, g_prod, Combiner::Prod);
  register_op(make_op("argmax", OpClass::Reduction, 1, infer_arg, nullptr));
  register_op(make_op("argmin", OpClass::Reduction, 1, infer_arg, nullptr));
  OpDef sum_to_like = make_op("sum_to_like", OpClass::Reduction, 2, infer_sum_to_like, g_sum_to_like);
  sum_to_like.shape_inputs = 0b10;
  register_op(sum_to_like);
  return true;
}();

}  // namespace
}  // namespace ts
