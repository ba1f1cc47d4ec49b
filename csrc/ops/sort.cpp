// Ordering along an axis: sort, argsort, top_k (stable; NaN sorts as the
// largest value, so last ascending as in NumPy), and cumsum.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ir/scalar_types.h"
#include "ops/infer_util.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

int axis_attr(const InferCtx& c, int rank) { return normalize_axis(c, c.has("axis") ? c.i("axis") : -1, rank); }

std::vector<TensorType> checked_same(InferCtx& c) {
  if (c.in[0].ranked) {
    if (c.in[0].dims.empty()) c.fail("needs an input of rank >= 1; got " + c.in[0].str());
    axis_attr(c, int(c.in[0].dims.size()));
  }
  return {c.in[0]};
}

Grads g_sort(GradCtx& c) {
  Tensor perm = c.op("argsort", {c.x[0]}, c.attrs());
  return {c.op("scatter_add_along_axis", {c.zeros_like(c.x[0]), perm, c.dy[0]}, {{"axis", c.attrs().count("axis") ? c.attrs().at("axis") : Attr(int64_t(-1))}})};
}

std::vector<TensorType> infer_argsort(InferCtx& c) {
  TensorType t = checked_same(c)[0];
  t.dtype = DType::Int64;
  return {t};
}

std::vector<TensorType> infer_top_k(InferCtx& c) {
  TensorType t = checked_same(c)[0];
  int64_t kk = c.i("k");
  if (kk < 0) c.fail("k must be >= 0; got " + std::to_string(kk));
  if (t.ranked) {
    int axis = axis_attr(c, int(t.dims.size()));
    if (t.dims[axis] >= 0 && kk > t.dims[axis])
      c.fail("k = " + std::to_string(kk) + " exceeds dimension " + std::to_string(axis) + " of " + t.str());
    t.dims[axis] = kk;
  }
  TensorType idx = t;
  idx.dtype = DType::Int64;
  return {t, idx};
}
Grads g_top_k(GradCtx& c) {
  Attr axis = c.attrs().count("axis") ? c.attrs().at("axis") : Attr(int64_t(-1));
  return {c.op("scatter_add_along_axis", {c.zeros_like(c.x[0]), c.y[1], c.dy[0]}, {{"axis", axis}})};
}

// ---- cumsum(x, axis, exclusive=0, reverse=0) ----
std::vector<TensorType> infer_cumsum(InferCtx& c) {
  TensorType t = checked_same(c)[0];
  if (t.dtype == DType::Bool) t.dtype = DType::Int64;
  return {t};
}
Grads g_cumsum(GradCtx& c) {
  Attrs attrs = c.attrs();
  attrs["reverse"] = int64_t(!c.flag("reverse"));
  return {c.op("cumsum", {c.dy[0]}, attrs)};
}

const bool registered = [] {
  register_op(make_op("sort", OpClass::Sort, 1, checked_same, g_sort));
  register_op(make_op("argsort", OpClass::Sort, 1, infer_argsort, nullptr));
  register_op(make_op("top_k", OpClass::Sort, 1, infer_top_k, g_top_k));
  register_op(make_op("cumsum", OpClass::Sort, 1, infer_cumsum, g_cumsum));
  return true;
}();

}  // namespace
}  // namespace ts
