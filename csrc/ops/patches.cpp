// im2col and col2im: the patch extraction under convolution. im2col(x) of an
// NHWC image gives, per output pixel, its window's values in (kh, kw, c)
// order, zeros where the window hangs over the padding: (N, Ho, Wo,
// kh * kw * C). col2im is its adjoint (each image element sums the patch
// entries that copied it), so each is the other's gradient. Attributes:
// kernel (kh, kw), strides, dilations, pads (top, bottom, left, right), and
// for col2im the image's size (H, W).
#include "ops/grad_ctx.h"
#include "ops/infer_util.h"
#include "ops/patches.h"

namespace ts {

PatchGeometry patch_geometry(const detail::Node& n, int64_t h, int64_t w) {
  InferCtx c{n, {}};
  const auto pair = [&](const char* key, int64_t least) {
    const std::vector<int64_t>& v = c.ints(key);
    if (v.size() != 2 || v[0] < least || v[1] < least)
      c.fail(std::string(key) + " must be 2 values >= " + std::to_string(least) + "; got " + dims_str(v));
    return v;
  };
  PatchGeometry g;
  const std::vector<int64_t> k = pair("kernel", 1), s = pair("strides", 1), d = pair("dilations", 1);
  const std::vector<int64_t>& p = c.ints("pads");
  if (p.size() != 4 || p[0] < 0 || p[1] < 0 || p[2] < 0 || p[3] < 0)
    c.fail("pads must be 4 values >= 0 (top, bottom, left, right); got " + dims_str(p));
  g.kh = k[0], g.kw = k[1], g.sh = s[0], g.sw = s[1], g.dh = d[0], g.dw = d[1];
  g.pt = p[0], g.pl = p[2], g.h = h, g.w = w;
  const auto out = [&](int64_t size, int64_t before, int64_t after, int64_t kernel, int64_t dil, int64_t stride) {
    if (size < 0) return int64_t(-1);
    int64_t extent, padded;
    if (__builtin_mul_overflow(kernel - 1, dil, &extent) || __builtin_add_overflow(size, before, &padded) ||
        __builtin_add_overflow(padded, after, &padded))
      c.fail("the window or padding overflows");
    if (extent + 1 > padded)
      c.fail("the kernel's extent " + std::to_string(extent + 1) + " is larger than the padded input (" +
             std::to_string(padded) + ")");
    return (padded - extent - 1) / stride + 1;
  };
  g.ho = out(h, p[0], p[1], g.kh, g.dh, g.sh);
  g.wo = out(w, p[2], p[3], g.kw, g.dw, g.sw);
  return g;
}

namespace {

using Grads = std::vector<Tensor>;

void expect_4d_float(InferCtx& c, const TensorType& t) {
  expect_dtype(c, is_floating(t.dtype), t, "a floating dtype");
  if (t.ranked && t.dims.size() != 4) c.fail("expected a 4-D NHWC tensor; got " + t.str());
}

std::vector<TensorType> infer_im2col(InferCtx& c) {
  const TensorType& x = c.in[0];
  expect_4d_float(c, x);
  if (!x.ranked) return {unranked(x.dtype)};
  const PatchGeometry g = patch_geometry(c.node, x.dims[1], x.dims[2]);
  int64_t depth = -1;
  if (x.dims[3] >= 0 && __builtin_mul_overflow(g.kh * g.kw, x.dims[3], &depth)) c.fail("the patch size overflows");
  const TensorType out = ranked({x.dims[0], g.ho, g.wo, depth}, x.dtype);
  if (out.is_concrete()) num_elements(out.dims);  // overflow check
  return {out};
}

std::vector<TensorType> infer_col2im(InferCtx& c) {
  const TensorType& cols = c.in[0];
  expect_4d_float(c, cols);
  const std::vector<int64_t>& size = c.ints("size");
  if (size.size() != 2 || size[0] < 0 || size[1] < 0) c.fail("size must be the image's (height, width); got " + dims_str(size));
  const PatchGeometry g = patch_geometry(c.node, size[0], size[1]);
  if (!cols.ranked) return {unranked(cols.dtype)};
  const int64_t per = g.kh * g.kw, depth = cols.dims[3];
  if (depth >= 0 && depth % per) c.fail("patches " + cols.str() + " must have a multiple of kh * kw = " + std::to_string(per) + " values each");
  if ((cols.dims[1] >= 0 && cols.dims[1] != g.ho) || (cols.dims[2] >= 0 && cols.dims[2] != g.wo))
    c.fail("patches " + cols.str() + " are not those of a " + dims_str(size) + " image (expected " +
           std::to_string(g.ho) + " x " + std::to_string(g.wo) + " windows)");
  return {ranked({cols.dims[0], size[0], size[1], depth < 0 ? -1 : depth / per}, cols.dtype)};
}

Attrs geometry_attrs(const GradCtx& c) {
  Attrs a;
  for (const char* key : {"kernel", "strides", "dilations", "pads"}) a[key] = c.ints(key);
  return a;
}

Grads g_im2col(GradCtx& c) {
  Attrs a = geometry_attrs(c);
  const TensorType& x = c.x[0].type();
  if (!x.ranked || x.dims[1] < 0 || x.dims[2] < 0)
    throw ShapeError(detail::describe(c.node) + ": its gradient needs the image's height and width; got " + x.str());
  a["size"] = Dims{x.dims[1], x.dims[2]};
  return {c.op("col2im", {c.dy[0]}, a)};
}

Grads g_col2im(GradCtx& c) { return {c.op("im2col", {c.dy[0]}, geometry_attrs(c))}; }

const bool registered = [] {
  register_op(make_op("im2col", OpClass::Movement, 1, infer_im2col, g_im2col));
  register_op(make_op("col2im", OpClass::Movement, 1, infer_col2im, g_col2im));
  return true;
}();

}  // namespace
}  // namespace ts
