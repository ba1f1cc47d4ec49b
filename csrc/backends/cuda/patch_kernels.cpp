// CUDA kernels of im2col and col2im (ops/patches.cpp): a thread per output
// element. col2im gathers the patch entries each image element was copied
// to (no atomics: sums are deterministic).
#include <algorithm>

#include "backends/cuda/op_kernels.h"
#include "ops/patches.h"

namespace ts::cuda {
namespace {

// Where channel `ch` of pixel (img, y, x) of an image is, by layout.
std::string pixel(bool nchw, const PatchGeometry& g, int64_t c) {
  std::ostringstream s;
  if (nchw) s << "((img * " << c << " + ch) * " << g.h << " + y) * " << g.w << " + x";
  else s << "((img * " << g.h << " + y) * " << g.w << " + x) * " << c << " + ch";
  return s.str();
}

OpSource im2col(const KernelDesc& k) {
  const Dims& x = k.inputs[0].type.dims;
  const bool nchw = patches_nchw(*k.node);
  const PatchGeometry g = patch_geometry(*k.node, x[nchw ? 2 : 1], x[nchw ? 3 : 2]);
  const Dims& out = k.outputs[0].dims;
  const int64_t n = num_elements(out), c = x[nchw ? 1 : 3];
  OpSource src;
  src.blocks = blocks_for(n);
  std::ostringstream s;
  // Element i of the patches is (img, oy, ox, ky, kx, ch).
  s << "  " << grid_loop("i", n) << " {\n" << coords({x[0], g.ho, g.wo, g.kh, g.kw, c}, "i", "p")
    << "    const long long img = p0, oy = p1, ox = p2, ky = p3, kx = p4, ch = p5;\n"
    << "    const long long y = oy * " << g.sh << " - " << g.pt << " + ky * " << g.dh << ", x = ox * " << g.sw << " - "
    << g.pl << " + kx * " << g.dw << ";\n"
    << "    const bool inside = y >= 0 && y < " << g.h << " && x >= 0 && x < " << g.w << ";\n"
    << "    out0[i] = inside ? in0[" << pixel(nchw, g, c) << "] : "
    << "(" << storage(k.outputs[0].dtype) << ")0;\n  }\n";
  src.body = s.str();
  return src;
}

OpSource col2im(const KernelDesc& k) {
  const Dims& out = k.outputs[0].dims;
  const bool nchw = patches_nchw(*k.node);
  const PatchGeometry g = patch_geometry(*k.node, out[nchw ? 2 : 1], out[nchw ? 3 : 2]);
  const int64_t n = num_elements(out), c = out[nchw ? 1 : 3];
  const DType dt = k.outputs[0].dtype, compute = compute_of(dt);
  // Window arithmetic in 32 bits where the image's sizes allow.
  const char* small = std::max(g.h + g.pt, g.w + g.pl) < (int64_t(1) << 30) ? "int" : "long long";
  OpSource src;
  src.blocks = blocks_for(n);
  std::ostringstream s;
  s << "  typedef " << register_type(compute) << " R;\n";
  s << "  " << grid_loop("i", n) << " {\n" << coords(out, "i", "q")
    << (nchw ? "    const long long img = q0, ch = q1, y = q2, x = q3;\n" : "    const long long img = q0, y = q1, x = q2, ch = q3;\n")
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
