// CUDA kernels of im2col and col2im (ops/patches.cpp): a thread per output
// element. col2im gathers the patch entries each image element was copied
// to (no atomics: sums are deterministic).
#include "backends/cuda/op_kernels.h"
#include "ops/patches.h"

namespace ts::cuda {
namespace {

OpSource im2col(const KernelDesc& k) {
  const Dims& x = k.inputs[0].type.dims;
  const PatchGeometry g = patch_geometry(*k.node, x[1], x[2]);
  const Dims& out = k.outputs[0].dims;
  const int64_t n = num_elements(out), c = x[3];
  OpSource src;
  src.blocks = blocks_for(n);
  std::ostringstream s;
  // i = (((img * Ho + oy) * Wo + ox) * kh + ky) * kw + kx) * C + ch
  s << "  " << grid_loop("i", n) << " {\n"
    << "    const long long ch = i % " << divisor(c) << ", kx = i / " << divisor(c) << " % " << g.kw << ", ky = i / "
    << divisor(c * g.kw) << " % " << g.kh << ";\n"
    << "    const long long ox = i / " << divisor(c * g.kw * g.kh) << " % " << divisor(g.wo) << ", oy = i / "
    << divisor(c * g.kw * g.kh * g.wo) << " % " << divisor(g.ho) << ", img = i / " << divisor(c * g.kw * g.kh * g.wo * g.ho)
    << ";\n"
    << "    const long long y = oy * " << g.sh << " - " << g.pt << " + ky * " << g.dh << ", x = ox * " << g.sw << " - "
    << g.pl << " + kx * " << g.dw << ";\n"
    << "    const bool inside = y >= 0 && y < " << g.h << " && x >= 0 && x < " << g.w << ";\n"
    << "    out0[i] = inside ? in0[((img * " << g.h << " + y) * " << g.w << " + x) * " << c << " + ch] : "
    << "(" << storage(k.outputs[0].dtype) << ")0;\n  }\n";
  src.body = s.str();
  return src;
}

OpSource col2im(const KernelDesc& k) {
  const Dims& out = k.outputs[0].dims;
  const PatchGeometry g = patch_geometry(*k.node, out[1], out[2]);
  const int64_t n = num_elements(out), c = out[3];
  const DType dt = k.outputs[0].dtype, compute = compute_of(dt);
  OpSource src;
  src.blocks = blocks_for(n);
  std::ostringstream s;
  s << "  typedef " << register_type(compute) << " R;\n";
  s << "  " << grid_loop("i", n) << " {\n"
    << "    const long long ch = i % " << divisor(c) << ", x = i / " << divisor(c) << " % " << divisor(g.w) << ", y = i / "
    << divisor(c * g.w) << " % " << divisor(g.h) << ", img = i / " << divisor(c * g.w * g.h) << ";\n"
    << "    R acc = R(0);\n"
    << "    for (int ky = 0; ky < " << g.kh << "; ++ky) {\n"
    << "      const long long ty = y + " << g.pt << " - ky * " << g.dh << ";\n"
    << "      if (ty < 0 || ty % " << g.sh << " || ty / " << g.sh << " >= " << g.ho << ") continue;\n"
    << "      for (int kx = 0; kx < " << g.kw << "; ++kx) {\n"
    << "        const long long tx = x + " << g.pl << " - kx * " << g.dw << ";\n"
    << "        if (tx < 0 || tx % " << g.sw << " || tx / " << g.sw << " >= " << g.wo << ") continue;\n"
    << "        const long long at = (((img * " << g.ho << " + ty / " << g.sh << ") * " << g.wo << " + tx / " << g.sw
    << ") * " << g.kh * g.kw << " + ky * " << g.kw << " + kx) * " << c << " + ch;\n"
    << "        acc += " << load_expr(dt, "in0[at]", register_type(compute)) << ";\n"
    << "      }\n    }\n"
    << "    out0[i] = " << store_expr(dt, "acc", compute) << ";\n  }\n";
  src.body = s.str();
  return src;
}

TS_CUDA_KERNEL("im2col", im2col);
TS_CUDA_KERNEL("col2im", col2im);

}  // namespace
}  // namespace ts::cuda
