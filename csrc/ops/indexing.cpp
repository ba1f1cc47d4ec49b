// Indexing: gather / scatter_add (along one axis, NumPy's take), gather_nd /
// scatter_nd_add, take_along_axis / scatter_add_along_axis, one_hot. Each
// scatter is its gather's gradient and the other way round.
#include <cstring>

#include "ir/scalar_types.h"
#include "ops/infer_util.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

void expect_indices(const InferCtx& c, const TensorType& t) {
  expect_dtype(c, is_integer(t.dtype), t, "an integer dtype for indices");
}
int op_axis(const InferCtx& c, int rank) { return normalize_axis(c, c.i("axis"), rank); }

// ---- gather(x, indices, axis): out = x[:axis] + indices.shape + x[axis+1:] ----
Dims gathered_dims(const Dims& x, const Dims& idx, int axis) {
  Dims dims(x.begin(), x.begin() + axis);
  dims.insert(dims.end(), idx.begin(), idx.end());
  dims.insert(dims.end(), x.begin() + axis + 1, x.end());
  return dims;
}
std::vector<TensorType> infer_gather(InferCtx& c) {
  expect_indices(c, c.in[1]);
  if (!c.in[0].ranked || !c.in[1].ranked) return {unranked(c.in[0].dtype)};
  int axis = op_axis(c, int(c.in[0].dims.size()));
  return {ranked(gathered_dims(c.in[0].dims, c.in[1].dims, axis), c.in[0].dtype)};
}
Grads g_gather(GradCtx& c) {
  return {c.op("scatter_add", {c.zeros_like(c.x[0]), c.x[1], c.dy[0]}, c.attrs()), Tensor()};
}

Grads g_scatter_add(GradCtx& c) {
  return {c.dy[0], Tensor(), c.op("gather", {c.dy[0], c.x[1]}, c.attrs())};
}

// ---- gather_nd(x, indices): indices (..., k) pick slices x[i0, ..., ik-1] ----
std::vector<TensorType> infer_gather_nd(InferCtx& c) {
  expect_indices(c, c.in[1]);
  const TensorType &x = c.in[0], &idx = c.in[1];
  if (!x.ranked || !idx.ranked || (!idx.dims.empty() && idx.dims.back() < 0)) return {unranked(x.dtype)};
  if (idx.dims.empty() || idx.dims.back() > int64_t(x.dims.size()))
    c.fail("indices " + idx.str() + " must end in a known dimension of at most the rank of " + x.str());
  Dims dims(idx.dims.begin(), idx.dims.end() - 1);
  dims.insert(dims.end(), x.dims.begin() + idx.dims.back(), x.dims.end());
  return {ranked(dims, x.dtype)};
}
Grads g_gather_nd(GradCtx& c) { return {c.op("scatter_nd_add", {c.zeros_like(c.x[0]), c.x[1], c.dy[0]}), Tensor()}; }

Grads g_scatter_nd_add(GradCtx& c) { return {c.dy[0], Tensor(), c.op("gather_nd", {c.dy[0], c.x[1]})}; }

// ---- take_along_axis(x, indices, axis) and its adjoint ----
std::vector<TensorType> infer_take_along(InferCtx& c) {
  expect_indices(c, c.in[1]);
  const TensorType &x = c.in[0], &idx = c.in[1];
  if (!x.ranked || !idx.ranked) return {unranked(x.dtype)};
  int axis = op_axis(c, int(x.dims.size()));
  Dims a = x.dims, b = idx.dims;
  if (a.size() == b.size()) a[axis] = b[axis] = -1;
  if (!dims_match(a, b)) c.fail("indices " + idx.str() + " must match " + x.str() + " except along axis " + std::to_string(axis));
  return {ranked(idx.dims, x.dtype)};
}
Grads g_take_along(GradCtx& c) {
  return {c.op("scatter_add_along_axis", {c.zeros_like(c.x[0]), c.x[1], c.dy[0]}, c.attrs()), Tensor()};
}
Grads g_scatter_along(GradCtx& c) {
  return {c.dy[0], Tensor(), c.op("take_along_axis", {c.dy[0], c.x[1]}, c.attrs())};
}

// ---- one_hot(indices, depth, axis, dtype): out-of-range indices give zeros ----
std::vector<TensorType> infer_one_hot(InferCtx& c) {
  expect_indices(c, c.in[0]);
  DType dt = c.dt("dtype");
  int64_t depth = c.i("depth");
  if (depth < 0) c.fail("depth must be >= 0; got " + std::to_string(depth));
  if (!c.in[0].ranked) return {unranked(dt)};
  Dims dims = c.in[0].dims;
  int axis = normalize_axis(c, c.i("axis"), int(dims.size()) + 1);
  dims.insert(dims.begin() + axis, depth);
  return {ranked(dims, dt)};
}

// A scatter's updates must look exactly like what the matching gather of
// (x, indices) returns.
template <InferFn Gather>
std::vector<TensorType> infer_scatter(InferCtx& c) {
  InferCtx gc{c.node, {c.in[0], c.in[1]}};
  const TensorType want = Gather(gc)[0];
  const TensorType& upd = c.in[2];
  if (upd.dtype != c.in[0].dtype)
    c.fail<DTypeError>("updates have dtype " + std::string(dtype_name(upd.dtype)) + "; expected " + dtype_name(c.in[0].dtype));
  if (want.ranked && upd.ranked && !dims_match(want.dims, upd.dims))
    c.fail("updates have shape " + upd.str() + "; expected " + want.str());
  return {c.in[0]};
}

const bool registered = [] {
  register_op(make_op("gather", OpClass::Indexing, 2, infer_gather, g_gather));
  register_op(make_op("scatter_add", OpClass::Indexing, 3, infer_scatter<infer_gather>, g_scatter_add));
  register_op(make_op("gather_nd", OpClass::Indexing, 2, infer_gather_nd, g_gather_nd));
  register_op(make_op("scatter_nd_add", OpClass::Indexing, 3, infer_scatter<infer_gather_nd>, g_scatter_nd_add));
  register_op(make_op("take_along_axis", OpClass::Indexing, 2, infer_take_along, g_take_along));
  register_op(make_op("scatter_add_along_axis", OpClass::Indexing, 3, infer_scatter<infer_take_along>, g_scatter_along));
  register_op(make_op("one_hot", OpClass::Indexing, 1, infer_one_hot, nullptr));
  return true;
}();

}  // namespace
}  // namespace ts
