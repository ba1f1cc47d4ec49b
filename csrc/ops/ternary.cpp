// Elementwise ternary ops: select(cond, a, b) and clamp(x, lo, hi).
#include "ops/elementwise_ops.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

std::vector<TensorType> infer_select(InferCtx& c) {
  return {broadcast(c, c.in, promote_types(c.in[1].dtype, c.in[2].dtype))};
}
std::vector<TensorType> infer_clamp(InferCtx& c) {
  return {broadcast(c, c.in, promote_types(c.in[0].dtype, promote_types(c.in[1].dtype, c.in[2].dtype)))};
}

Grads g_select(GradCtx& c) {
  const Tensor &cond = c.x[0], &dy = c.dy[0], zero = c.c(0, dy);
  return {Tensor(), c.sum_to(c.op("select", {cond, dy, zero}), c.x[1]),
          c.sum_to(c.op("select", {cond, zero, dy}), c.x[2])};
}
// Follows the forward, min(max(x, lo), hi): the gradient goes to whichever
// value was selected, so hi takes it whenever max(x, lo) > hi (also when lo > hi).
Grads g_clamp(GradCtx& c) {
  const Tensor &x = c.x[0], &lo = c.x[1], &hi = c.x[2], &dy = c.dy[0], zero = c.c(0, dy);
  Tensor above = c.op("greater", {c.op("maximum", {x, lo}), hi});
  Tensor below = c.op("logical_and", {c.op("less", {x, lo}), c.op("logical_not", {above})});
  Tensor inside = c.op("logical_not", {c.op("logical_or", {below, above})});
  return {c.sum_to(c.op("select", {inside, dy, zero}), x),
          c.sum_to(c.op("select", {below, dy, zero}), lo),
          c.sum_to(c.op("select", {above, dy, zero}), hi)};
}

const bool registered = [] {
  OpDef select = elementwise_def("select", 3, infer_select, g_select, "Select");
  select.bool_result = true;  // between bools (0 or 1) it picks 0 or 1
  register_op(select);
  register_op(elementwise_def("clamp", 3, infer_clamp, g_clamp, "Clamp"));
  return true;
}();

}  // namespace
}  // namespace ts
