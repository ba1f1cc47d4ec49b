// matmul(a, b, transpose_a, transpose_b): NumPy's matmul (1-D operands are
// vectors, batch dims broadcast) with optional transposes of the last two dims.
#include "ops/infer_util.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

// Validated where the op is built (InferCtx::i names the op on a wrong type).
bool flag(const InferCtx& c, const char* key) { return c.has(key) && c.i(key) != 0; }

std::vector<TensorType> infer_matmul(InferCtx& c) {
  const TensorType &a = c.in[0], &b = c.in[1];
  DType dt = promote_types(a.dtype, b.dtype);
  if (dt == DType::Bool) c.fail<DTypeError>("got bool operands; expected numeric ones");
  if (!a.ranked || !b.ranked) return {unranked(dt)};
  if (a.dims.empty() || b.dims.empty()) c.fail("operands must have rank >= 1; got " + a.str() + " and " + b.str());
  const bool ta = flag(c, "transpose_a") && a.dims.size() > 1;
  const bool tb = flag(c, "transpose_b") && b.dims.size() > 1;
  const size_t ra = a.dims.size(), rb = b.dims.size();
  int64_t k1 = ra == 1 ? a.dims[0] : (ta ? a.dims[ra - 2] : a.dims[ra - 1]);
  int64_t k2 = rb == 1 ? b.dims[0] : (tb ? b.dims[rb - 1] : b.dims[rb - 2]);
  if (k1 >= 0 && k2 >= 0 && k1 != k2)
    c.fail("contraction dimensions differ: " + a.str() + (ta ? "^T" : "") + " @ " + b.str() + (tb ? "^T" : "") +
           " (" + std::to_string(k1) + " vs " + std::to_string(k2) + ")");
  TensorType ba = ranked(Dims(a.dims.begin(), a.dims.end() - std::min<size_t>(ra, 2)), dt);
  TensorType bb = ranked(Dims(b.dims.begin(), b.dims.end() - std::min<size_t>(rb, 2)), dt);
  TensorType out = broadcast(c, {ba, bb}, dt);
  if (ra > 1) out.dims.push_back(ta ? a.dims[ra - 1] : a.dims[ra - 2]);
  if (rb > 1) out.dims.push_back(tb ? b.dims[rb - 2] : b.dims[rb - 1]);
  return {out};
}

// With op(X) = X or X^T: d op(A) = dy @ op(B)^T and d op(B) = op(A)^T @ dy.
Grads g_matmul(GradCtx& c) {
  Tensor a = c.x[0], b = c.x[1], dy = c.dy[0];
  const bool vec_a = c.rank(a) == 1, vec_b = c.rank(b) == 1;
  const bool ta = c.flag("transpose_a") && !vec_a, tb = c.flag("transpose_b") && !vec_b;
  if (vec_a) a = c.op("expand_dims", {a}, {{"axes", Dims{0}}});
  if (vec_b) b = c.op("expand_dims", {b}, {{"axes", Dims{1}}});
  if (vec_b) dy = c.op("expand_dims", {dy}, {{"axes", Dims{-1}}});
  if (vec_a) dy = c.op("expand_dims", {dy}, {{"axes", Dims{-2}}});
  auto mm = [&](const Tensor& x, const Tensor& y, bool tx, bool ty) {
    return c.op("matmul", {x, y}, {{"transpose_a", int64_t(tx)}, {"transpose_b", int64_t(ty)}});
  };
  Tensor da = ta ? mm(b, dy, tb, true) : mm(dy, b, false, !tb);
  da = c.sum_to(da, a);
  Tensor db;
  const TensorType &at = a.type(), &bt = b.type();
  const int64_t k = at.ranked && !at.dims.empty() ? at.dims.back() : -1;
  if (!ta && k >= 0 && bt.ranked && bt.dims.size() == 2 && at.dims.size() > 2 && dy.type().ranked) {
    // b is shared by every batch: one product over all rows at once, not a
    // product per batch summed afterwards (which would hold batch copies of b).
    const Tensor a2 = c.op("reshape", {a}, {{"shape", Dims{-1, k}}});
    const Tensor dy2 = c.op("reshape", {dy}, {{"shape", Dims{-1, dy.type().dims.back()}}});
    db = tb ? mm(dy2, a2, true, false) : mm(a2, dy2, true, false);
  } else {
    db = c.sum_to(tb ? mm(dy, a, true, ta) : mm(a, dy, !ta, false), b);
  }
  if (vec_a) da = c.op("reshape_like", {da, c.x[0]});
  if (vec_b) db = c.op("reshape_like", {db, c.x[1]});
  return {da, db};
}

const bool registered = [] {
  register_op(make_op("matmul", OpClass::Matmul, 2, infer_matmul, g_matmul));
  return true;
}();

}  // namespace
}  // namespace ts
