// CUDA kernels of random_uniform and random_normal: the same draws as the
// CPU's (ops/random_math.h, a thread per element), compiled without FMA
// contraction so the floats match bit for bit.
#include "backends/cuda/op_kernels.h"

namespace ts::cuda {
namespace {

template <bool kNormal>
OpSource random_op(const KernelDesc& k) {
  const long long seed = attr_int(*k.node, "seed");
  const double a = attr_float(*k.node, kNormal ? "mean" : "low"), b = attr_float(*k.node, kNormal ? "stddev" : "high");
  const int64_t n = num_elements(k.outputs[0].dims);
  OpSource src;
  src.blocks = blocks_for(n);
  src.exact = true;
  std::ostringstream s;
  s.precision(17);
  const std::string seed_literal = "(long long)" + std::to_string((unsigned long long)seed) + "ULL";
  s << "  const unsigned int k0 = ts::rnd::key0(" << seed_literal << "), k1 = ts::rnd::key1(" << seed_literal << ", "
    << k.node->id << ");\n";
  s << "  " << grid_loop("i", n) << " {\n";
  s << "    const unsigned int bits = ts::rnd::philox((unsigned long long)i, run, k0, k1);\n";
  s << "    const double v = ts::rnd::" << (kNormal ? "normal" : "uniform") << "(bits, " << literal(DType::Float64, a) << ", "
    << literal(DType::Float64, b) << ");\n";
  s << "    out0[i] = " << store_expr(k.outputs[0].dtype, "v", DType::Float64) << ";\n  }\n";
  src.body = s.str();
  return src;
}

TS_CUDA_KERNEL("random_uniform", random_op<false>);
TS_CUDA_KERNEL("random_normal", random_op<true>);

}  // namespace
}  // namespace ts::cuda
