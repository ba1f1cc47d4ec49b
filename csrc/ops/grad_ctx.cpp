// The vocabulary gradient rules are written in: graph ops built on the
// graph being differentiated.
#include "ops/grad_ctx.h"

namespace ts {

Tensor GradCtx::op(const std::string& type, const std::vector<Tensor>& inputs, const Attrs& attrs) {
  return g.op(type, inputs, attrs)[0];
}
std::vector<Tensor> GradCtx::ops(const std::string& type, const std::vector<Tensor>& inputs, const Attrs& attrs) {
  return g.op(type, inputs, attrs);
}

Tensor GradCtx::c(double v, const Tensor& like) {
  return g.constant(NDArray::full({}, like.dtype(), v));
}

Tensor GradCtx::sum_to(const Tensor& grad, const Tensor& like) {
  if (grad.type().is_concrete() && grad.type().dims == like.type().dims) return grad;
  return op("sum_to_like", {grad, like});
}

Tensor GradCtx::broadcast_like(const Tensor& t, const Tensor& like) {
  if (t.type().is_concrete() && t.type().dims == like.type().dims) return t;
  return op("broadcast_like", {t, like});
}

Tensor GradCtx::zeros_like(const Tensor& t) { return op("broadcast_like", {c(0, t), t}); }
Tensor GradCtx::ones_like(const Tensor& t) { return op("broadcast_like", {c(1, t), t}); }
Tensor GradCtx::cast(const Tensor& t, DType dtype) { return op("cast", {t}, {{"dtype", dtype}}); }

Tensor GradCtx::dy_or_zeros(size_t k) { return dy[k].defined() ? dy[k] : zeros_like(y[k]); }

}  // namespace ts
