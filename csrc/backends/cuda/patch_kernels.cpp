// CUDA kernels of im2col and col2im (ops/patches.cpp): a thread per output
// element. col2im gathers the patch entries each image element was copied
// to (no atomics: sums are deterministic).
#include <algorithm>

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
  // Element i of the patches is (img, oy, ox, ky, kx, ch).
  s << "  " << grid_loop("i", n) << " {\n" << coords({x[0], g.ho, g.wo, g.kh, g.kw, c}, "i", "p")
    << "    const long long img = p0, oy = p1, ox = p2, ky = p3, kx = p4, ch = p5;\n"
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
  // Window arithmetic in 32 bits where the image's sizes allow.
  const char* small = std::max(g.h + g.pt, g.w + g.pl) < (int64_t(1) << 30) ? "int" : "long long";
  OpSource src;
  src.blocks = blocks_for(n);
  std::ostringstream s;
  s << "  typedef " << register_type(compute) << " R;\n";
  s << "  " << grid_loop("i", n) << " {\n" << coords(out, "i", "q")
    << "    const long long img = q0, y = q1, x = q2, ch = q3;\n"
    << "    R acc = R(0);\n"
    << "    for (int ky = 0; ky < " << g.kh << "; ++ky) {\n"
    << "      const " << small << " ty = y + " << g.pt << " - ky * " << g.dh << ";\n"
    << "      if (ty < 0 || ty % " << g.sh << " || ty / " << g.sh << " >= " << g.ho << ") continue;\n"
    << "      for (int kx = 0; kx < " << g.kw << "; ++kx) {\n"
    << "        const " << small << " tx = x + " << g.pl << " - kx * " << g.dw << ";\n"
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
