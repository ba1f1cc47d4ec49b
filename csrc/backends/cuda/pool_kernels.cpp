// CUDA kernels of pool2d and pool2d_grad (ops/pool.cpp): a thread per output
// element; the gradient gathers, as on the host (the first maximum of a
// window takes its gradient; means share it by the window's count).
#include <algorithm>

#include "backends/cuda/op_kernels.h"
#include "ops/patches.h"

namespace ts::cuda {
namespace {

// Device statements defining, for window (oy, ox), its taps inside the
// image (i0..i1, j0..j1, from y0, x0) and, for max pooling, `best`: the
// image offset of its first maximum (`base` points at the image's channel).
std::string window(const PoolShape& p, const std::array<int64_t, 4>& xs, const char* indent) {
  const PatchGeometry& g = p.g;
  std::ostringstream s;
  s << indent << "const long long y0 = oy * " << g.sh << " - " << g.pt << ", x0 = ox * " << g.sw << " - " << g.pl << ";\n"
    << indent << "const long long i0 = y0 >= 0 ? 0 : (-y0 + " << g.dh - 1 << ") / " << g.dh << ", i1 = " << g.h
    << " - y0 <= 0 ? 0 : min(" << g.kh << "LL, (" << g.h << " - y0 + " << g.dh - 1 << ") / " << g.dh << ");\n"
    << indent << "const long long j0 = x0 >= 0 ? 0 : (-x0 + " << g.dw - 1 << ") / " << g.dw << ", j1 = " << g.w
    << " - x0 <= 0 ? 0 : min(" << g.kw << "LL, (" << g.w << " - x0 + " << g.dw - 1 << ") / " << g.dw << ");\n";
  if (p.max) {
    s << indent << "R m = -__longlong_as_double(0x7ff0000000000000LL);\n" << indent << "long long best = -1;\n"
      << indent << "for (long long i = i0; i < i1; ++i)\n" << indent << "  for (long long j = j0; j < j1; ++j) {\n"
      << indent << "    const long long off = (y0 + i * " << g.dh << ") * " << xs[2] << " + (x0 + j * " << g.dw << ") * "
      << xs[3] << ";\n"
      << indent << "    const R v = VALUE(base[off]);\n"
      << indent << "    if (best < 0 || v > m || (v != v && m == m)) { m = v; best = off; }\n" << indent << "  }\n";
  }
  return s.str();
}

std::string value_macro(DType dt, DType compute) {
  return "#define VALUE(e) (" + load_expr(dt, "e", register_type(compute)) + ")\n";
}

// The kernel's opening: a thread per element of `dims` (an image in p's
// layout), its coordinates named img, ch, `row` and `col`, and `base`, the
// input's plane of that image and channel.
std::string per_element(const PoolShape& p, const Dims& dims, const char* row, const char* col, DType dt,
                        const std::array<int64_t, 4>& xs) {
  const DType compute = compute_of(dt);
  std::ostringstream s;
  s << value_macro(dt, compute) << "  typedef " << register_type(compute) << " R;\n";
  s << "  " << grid_loop("e", num_elements(dims)) << " {\n" << coords(dims, "e", "q");
  s << "    const long long img = q0, ch = q" << (p.nchw ? 1 : 3) << ", " << row << " = q" << (p.nchw ? 2 : 1) << ", "
    << col << " = q" << (p.nchw ? 3 : 2) << ";\n";
  s << "    const " << storage(dt) << "* base = in0 + img * " << xs[0] << " + ch * " << xs[1] << ";\n";
  return s.str();
}

OpSource pool2d(const KernelDesc& k) {
  const PoolShape p = pool_shape(*k.node, k.inputs[0].type.dims);
  const auto xs = p.strides(p.g.h, p.g.w);
  const Dims& out = k.outputs[0].dims;
  const DType dt = k.outputs[0].dtype, compute = compute_of(dt);
  const int64_t n = num_elements(out);
  OpSource src;
  src.blocks = blocks_for(n);
  std::ostringstream s;
  s << per_element(p, out, "oy", "ox", dt, xs) << window(p, xs, "    ");
  if (p.max) {
    s << "    out0[e] = " << store_expr(dt, "m", compute) << ";\n";
  } else {
    s << "    R sum = R(0);\n    for (long long i = i0; i < i1; ++i)\n      for (long long j = j0; j < j1; ++j)\n"
      << "        sum += VALUE(base[(y0 + i * " << p.g.dh << ") * " << xs[2] << " + (x0 + j * " << p.g.dw << ") * " << xs[3]
      << "]);\n";
    s << "    out0[e] = " << store_expr(dt, "sum / R((i1 > i0 ? i1 - i0 : 0) * (j1 > j0 ? j1 - j0 : 0))", compute) << ";\n";
  }
  s << "  }\n#undef VALUE\n";
  src.body = s.str();
  return src;
}

OpSource pool2d_grad(const KernelDesc& k) {
  const PoolShape p = pool_shape(*k.node, k.inputs[0].type.dims);
  const PatchGeometry& g = p.g;
  const auto xs = p.strides(g.h, g.w), os = p.strides(g.ho, g.wo);
  const Dims& out = k.outputs[0].dims;
  const DType dt = k.outputs[0].dtype, compute = compute_of(dt);
  const int64_t n = num_elements(out);
  OpSource src;
  src.blocks = blocks_for(n);
  std::ostringstream s;
  s << per_element(p, out, "y", "x", dt, xs);
  s << "    const long long self = y * " << xs[2] << " + x * " << xs[3] << ";\n    R acc = R(0);\n";
  // Window arithmetic in 32 bits where the image's sizes allow.
  const char* small = std::max(g.h + g.pt, g.w + g.pl) < (int64_t(1) << 30) ? "int" : "long long";
  s << "    for (int ky = 0; ky < " << g.kh << "; ++ky) {\n"
    << "      const " << small << " ty = y + " << g.pt << " - ky * " << g.dh << ";\n"
    << "      if (ty < 0 || ty % " << g.sh << " || ty / " << g.sh << " >= " << g.ho << ") continue;\n"
    << "      for (int kx = 0; kx < " << g.kw << "; ++kx) {\n"
    << "        const " << small << " tx = x + " << g.pl << " - kx * " << g.dw << ";\n"
    << "        if (tx < 0 || tx % " << g.sw << " || tx / " << g.sw << " >= " << g.wo << ") continue;\n"
    << "        const long long oy = ty / " << g.sh << ", ox = tx / " << g.sw << ";\n";
  s << window(p, xs, "        ");
  s << "        const R d = VALUE(in1[img * " << os[0] << " + ch * " << os[1] << " + oy * " << os[2] << " + ox * " << os[3]
    << "]);\n";
  if (p.max) s << "        if (best == self) acc += d;\n";
  else s << "        acc += d / R((i1 - i0) * (j1 - j0));\n";
  s << "      }\n    }\n    out0[e] = " << store_expr(dt, "acc", compute) << ";\n  }\n#undef VALUE\n";
  src.body = s.str();
  return src;
}

TS_CUDA_KERNEL("pool2d", pool2d);
TS_CUDA_KERNEL("pool2d_grad", pool2d_grad);

}  // namespace
}  // namespace ts::cuda
