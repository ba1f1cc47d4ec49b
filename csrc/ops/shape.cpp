// Shape ops: reshape, expand_dims, squeeze (views of their input), transpose,
// broadcast_to, shape_of, and the *_like helpers gradients use when shapes
// are only known at run time.
#include <algorithm>

#include "ops/infer_util.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

Grads g_reshape_back(GradCtx& c) { return {c.op("reshape_like", {c.dy[0], c.x[0]})}; }

OpDef view_op(const char* name, int inputs, InferFn infer, GradFn grad) {
  OpDef d = make_op(name, OpClass::Movement, inputs, infer, grad);
  d.view = true;
  return d;
}

std::vector<TensorType> infer_reshape(InferCtx& c) {
  const TensorType& x = c.in[0];
  Dims target = c.ints("shape");
  int unknown = -1;
  int64_t known = 1;
  for (size_t d = 0; d < target.size(); ++d) {
    if (target[d] == -1) {
      if (unknown >= 0) c.fail("can only infer one dimension; got shape " + dims_str(target));
      unknown = int(d);
    } else if (target[d] < 0) {
      c.fail("invalid dimension " + std::to_string(target[d]) + " in shape " + dims_str(target));
    } else {
      known = checked_mul(c, known, target[d]);
    }
  }
  if (x.is_concrete()) {
    int64_t total = num_elements(x.dims);
    bool ok = unknown < 0 ? known == total : known != 0 && total % known == 0;
    if (!ok) c.fail("cannot reshape " + x.str() + " (" + std::to_string(total) + " elements) into shape " + dims_str(target));
    if (unknown >= 0) target[unknown] = total / known;
  }
  return {ranked(target, x.dtype)};
}

std::vector<TensorType> infer_like(InferCtx& c) {
  TensorType t = c.in[1];
  t.dtype = c.in[0].dtype;
  if (t.is_concrete() && c.in[0].is_concrete() && num_elements(t.dims) != num_elements(c.in[0].dims))
    c.fail("cannot reshape " + c.in[0].str() + " like " + c.in[1].str());
  return {t};
}
Grads g_reshape_like(GradCtx& c) { return {c.op("reshape_like", {c.dy[0], c.x[0]}), Tensor()}; }

std::vector<TensorType> infer_expand_dims(InferCtx& c) {
  const TensorType& x = c.in[0];
  if (!x.ranked) return {x};
  const Dims& axes = c.ints("axes");
  int rank = int(x.dims.size() + axes.size());
  std::vector<int> at = normalize_axes(c, axes, rank);
  Dims dims;
  for (int d = 0, k = 0, src = 0; d < rank; ++d) {
    if (k < int(at.size()) && at[k] == d) { dims.push_back(1); ++k; }
    else dims.push_back(x.dims[src++]);
  }
  return {ranked(dims, x.dtype)};
}

std::vector<TensorType> infer_squeeze(InferCtx& c) {
  const TensorType& x = c.in[0];
  if (!x.ranked) return {x};
  Dims dims;
  if (!c.has("axes")) {
    for (int64_t d : x.dims) {
      if (d == -1) return {unranked(x.dtype)};  // whether it is 1 is known only at run time
      if (d != 1) dims.push_back(d);
    }
    return {ranked(dims, x.dtype)};
  }
  std::vector<int> axes = normalize_axes(c, c.ints("axes"), int(x.dims.size()));
  for (int d = 0, k = 0; d < int(x.dims.size()); ++d) {
    if (k < int(axes.size()) && axes[k] == d) {
      ++k;
      if (x.dims[d] != 1 && x.dims[d] != -1)
        c.fail("cannot squeeze axis " + std::to_string(d) + " of size " + std::to_string(x.dims[d]) + " in " + x.str());
    } else {
      dims.push_back(x.dims[d]);
    }
  }
  return {ranked(dims, x.dtype)};
}

std::vector<TensorType> infer_transpose(InferCtx& c) {
  const TensorType& x = c.in[0];
  if (!x.ranked) return {x};
  Dims dims;
  for (int64_t p : perm_of(c, int(x.dims.size()))) dims.push_back(x.dims[p]);
  return {ranked(dims, x.dtype)};
}
Grads g_transpose(GradCtx& c) {
  int rank = c.rank(c.x[0]);
  InferCtx ic{c.node, {c.x[0].type()}};
  std::vector<int64_t> perm = perm_of(ic, rank), inverse(rank);
  for (int d = 0; d < rank; ++d) inverse[perm[d]] = d;
  return {c.op("transpose", {c.dy[0]}, {{"perm", inverse}})};
}

std::vector<TensorType> infer_broadcast_to(InferCtx& c) {
  TensorType target = ranked(c.ints("shape"), c.in[0].dtype);
  for (int64_t d : target.dims)
    if (d < 0) c.fail("target shape " + dims_str(target.dims) + " must be concrete");
  const TensorType& x = c.in[0];
  if (!x.ranked) return {target};
  // Each input dimension equals its target, is 1, or is -1: then it must be
  // one of those at run time, which specialization checks.
  bool ok = x.dims.size() <= target.dims.size();
  for (size_t d = 0; ok && d < x.dims.size(); ++d) {
    const int64_t v = x.dims[d], t = target.dims[target.dims.size() - x.dims.size() + d];
    ok = v == t || v == 1 || v == -1;
  }
  if (!ok) c.fail("cannot broadcast " + x.str() + " to " + dims_str(target.dims));
  return {target};
}
std::vector<TensorType> infer_broadcast_like(InferCtx& c) { return {broadcast(c, c.in, c.in[0].dtype)}; }
Grads g_broadcast_to(GradCtx& c) { return {c.sum_to(c.dy[0], c.x[0])}; }
Grads g_broadcast_like(GradCtx& c) { return {c.sum_to(c.dy[0], c.x[0]), Tensor()}; }

std::vector<TensorType> infer_shape_of(InferCtx& c) {
  return {ranked({c.in[0].ranked ? int64_t(c.in[0].dims.size()) : -1}, DType::Int64)};
}

const bool registered = [] {
  register_op(view_op("reshape", 1, infer_reshape, g_reshape_back));
  OpDef reshape_like = view_op("reshape_like", 2, infer_like, g_reshape_like);
  reshape_like.shape_inputs = 0b10;
  register_op(reshape_like);
  register_op(view_op("expand_dims", 1, infer_expand_dims, g_reshape_back));
  register_op(view_op("squeeze", 1, infer_squeeze, g_reshape_back));
  register_op(make_op("transpose", OpClass::Movement, 1, infer_transpose, g_transpose));
  OpDef broadcast_to = make_op("broadcast_to", OpClass::Movement, 1, infer_broadcast_to, g_broadcast_to);
  broadcast_to.broadcast = true;
  register_op(broadcast_to);
  OpDef broadcast_like = make_op("broadcast_like", OpClass::Movement, 2, infer_broadcast_like, g_broadcast_like);
  broadcast_like.shape_inputs = 0b10;
  broadcast_like.broadcast = true;
  register_op(broadcast_like);
  OpDef shape_of = make_op("shape_of", OpClass::Movement, 1, infer_shape_of, nullptr);
  shape_of.shape_inputs = 0b1;
  register_op(shape_of);
  return true;
}();

}  // namespace
}  // namespace ts
