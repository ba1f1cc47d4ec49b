// Neural-network ops with kernels of their own: softmax and log_softmax
// along one axis.
#include <cmath>

#include "ops/infer_util.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

std::vector<TensorType> infer_softmax(InferCtx& c) {
  expect_dtype(c, is_floating(c.in[0].dtype), c.in[0], "a floating dtype");
  if (c.in[0].ranked) {
    if (c.in[0].dims.empty()) c.fail("needs an input of rank >= 1; got " + c.in[0].str());
    normalize_axis(c, c.i("axis"), int(c.in[0].dims.size()));
  }
  return {c.in[0]};
}

Attrs keep_axis(const GradCtx& c) {
  return {{"axes", std::vector<int64_t>{c.i("axis")}}, {"keepdims", int64_t(1)}};
}
// dx = y * (dy - sum(dy * y))
Grads g_softmax(GradCtx& c) {
  const Tensor &y = c.y[0], &dy = c.dy[0];
  return {c.mul(y, c.sub(dy, c.op("reduce_sum", {c.mul(dy, y)}, keep_axis(c))))};
}
// dx = dy - exp(y) * sum(dy)
Grads g_log_softmax(GradCtx& c) {
  const Tensor &y = c.y[0], &dy = c.dy[0];
  return {c.sub(dy, c.mul(c.op("exp", {y}), c.op("reduce_sum", {dy}, keep_axis(c))))};
}

const bool registered = [] {
  register_op(make_op("softmax", OpClass::Reduction, 1, infer_softmax, g_softmax));
  register_op(make_op("log_softmax", OpClass::Reduction, 1, infer_softmax, g_log_softmax));
  return true;
}();

}  // namespace
}  // namespace ts
