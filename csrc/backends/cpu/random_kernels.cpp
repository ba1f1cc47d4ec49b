// CPU kernels of random_uniform and random_normal: every element drawn by
// ops/random_math.h from (its index, the run index) under the op's key, so
// the values do not depend on the thread count and equal the GPU's. This
// file is compiled without floating-point contraction (CMakeLists.txt): the
// only fused multiply-adds are the explicit ones, as in the CUDA kernel.
#include "backends/cpu/kernel_table.h"
#include "ir/scalar_types.h"
#include "ops/scalar_shim_host.h"  // and ops/scalar_math.h after it
#include "ops/random_math.h"
#include "runtime/thread_pool.h"

namespace ts::cpu {
namespace {

template <bool kNormal>
void random_kernel(KernelCtx& k) {
  const long long seed = k.i("seed");
  const unsigned int k0 = rnd::key0(seed), k1 = rnd::key1(seed, k.node.id);
  const double a = k.f(kNormal ? "mean" : "low"), b = k.f(kNormal ? "stddev" : "high");
  const uint64_t run = k.run;
  NDArray& out = k.out[0];
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      T* p = out.data_as<T>();
      parallel_for(out.size(), 1 << 14, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const unsigned int bits = rnd::philox(uint64_t(i), run, k0, k1);
          p[i] = convert<T>(kNormal ? rnd::normal(bits, a, b) : rnd::uniform(bits, a, b));
        }
      });
    }
  });
}

TS_CPU_KERNEL("random_uniform", random_kernel<false>);
TS_CPU_KERNEL("random_normal", random_kernel<true>);

}  // namespace
}  // namespace ts::cpu
