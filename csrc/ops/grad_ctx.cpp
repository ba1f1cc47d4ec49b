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
  const TensorType &gt = grad.type(), &lt = like.type();
  if (gt.is_concrete() && gt.dims == lt.dims) return grad;
  if (gt.is_concrete() && lt.is_concrete() && gt.dims.size() >= lt.dims.size()) {
    // Reduced axes around a kept one (a bias over NCHW: N, H and W): the
    // trailing ones first, as rows (every backend's fastest reduction),
    // leaves a small tensor for the rest.
    const size_t rank = gt.dims.size(), lead = rank - lt.dims.size();
    auto reduced = [&](size_t d) { return d < lead || (lt.dims[d - lead] == 1 && gt.dims[d] != 1); };
    std::vector<int64_t> trailing;
    size_t d = rank;
    while (d > 0 && (reduced(d - 1) || gt.dims[d - 1] == 1)) {
      if (reduced(d - 1)) trailing.insert(trailing.begin(), int64_t(d - 1));
      --d;
    }
    bool others = false;
    for (size_t e = 0; e < d; ++e) others = others || reduced(e);
    if (others && !trailing.empty())
      return op("sum_to_like",
                {op("reduce_sum", {grad}, {{"axes", trailing}, {"keepdims", int64_t(1)}}), like});
  }
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
