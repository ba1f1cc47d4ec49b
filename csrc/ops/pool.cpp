// pool2d(x) and pool2d_grad(x, dy): the maximum or mean of each window of a
// 4-D image (NCHW or NHWC), padding excluded (a window's mean counts only
// the image elements under it), and the gradient. max_pool2d and
// avg_pool2d (ir/composites.cpp) check the descriptor and lower to them.
// Attributes: mode ("max" or "avg"), layout, and the window geometry of
// ops/patches.h (kernel, strides, dilations, pads).
#include "ops/grad_ctx.h"
#include "ops/infer_util.h"
#include "ops/patches.h"

namespace ts {

PoolShape pool_shape(const detail::Node& n, const Dims& x) {
  InferCtx c{n, {}};
  const std::string& layout = c.s("layout");
  if (layout != "NCHW" && layout != "NHWC") c.fail("unknown layout '" + layout + "'; expected 'NCHW' or 'NHWC'");
  const std::string& mode = c.s("mode");
  if (mode != "max" && mode != "avg") c.fail("unknown mode '" + mode + "'; expected 'max' or 'avg'");
  PoolShape p;
  p.nchw = layout == "NCHW";
  p.max = mode == "max";
  p.n = x[0];
  p.c = x[p.nchw ? 1 : 3];
  p.g = patch_geometry(n, x[p.nchw ? 2 : 1], x[p.nchw ? 3 : 2]);
  return p;
}

namespace {

using Grads = std::vector<Tensor>;

Dims pooled_dims(const PoolShape& p) {
  return p.nchw ? Dims{p.n, p.c, p.g.ho, p.g.wo} : Dims{p.n, p.g.ho, p.g.wo, p.c};
}

void expect_image(InferCtx& c, const TensorType& t) {
  expect_dtype(c, is_floating(t.dtype), t, "a floating dtype");
  if (!t.ranked || t.dims.size() != 4) c.fail("expected a 4-D image; got " + t.str());
}

std::vector<TensorType> infer_pool(InferCtx& c) {
  expect_image(c, c.in[0]);
  return {ranked(pooled_dims(pool_shape(c.node, c.in[0].dims)), c.in[0].dtype)};
}

std::vector<TensorType> infer_pool_grad(InferCtx& c) {
  expect_image(c, c.in[0]);
  const TensorType want = ranked(pooled_dims(pool_shape(c.node, c.in[0].dims)), c.in[0].dtype);
  if (c.in[1].dtype != want.dtype || !c.in[1].ranked || !dims_match(c.in[1].dims, want.dims))
    c.fail("the gradient " + c.in[1].str() + " is not shaped like the pooled " + want.str());
  return {c.in[0]};
}

Grads g_pool(GradCtx& c) { return {c.op("pool2d_grad", {c.x[0], c.dy[0]}, c.attrs())}; }

const bool registered = [] {
  register_op(make_op("pool2d", OpClass::Reduction, 1, infer_pool, g_pool));
  register_op(make_op("pool2d_grad", OpClass::Reduction, 2, infer_pool_grad, nullptr));
  return true;
}();

}  // namespace
}  // namespace ts
