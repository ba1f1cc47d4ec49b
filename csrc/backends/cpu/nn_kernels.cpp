// CPU kernels of softmax and log_softmax along one axis. Each line is read
// from memory once: its max and the sum of exponentials are found while the
// line is in cache, then it is written.
#include <cmath>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/reduce.h"
#include "ir/scalar_types.h"
#include "ops/scalar_shim_host.h"
#include "runtime/thread_pool.h"

namespace ts::cpu {
namespace {

template <bool kLog>
void softmax_kernel(KernelCtx& k) {
  const NDArray& x = k.in[0];
  int axis = int(k.i("axis"));
  if (axis < 0) axis += x.rank();
  const AxisView v = axis_view(x.shape(), axis);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      using C = compute_t<T>;
      const T* px = x.data_as<T>();
      T* po = k.out[0].data_as<T>();
      parallel_for(v.outer * v.inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(v.n, 1)), [&](int64_t b, int64_t e) {
        std::vector<C> line(v.n);
        for (int64_t l = b; l < e; ++l) {
          const int64_t base = (l / v.inner) * v.n * v.inner + l % v.inner;
          C m = -INFINITY;
          bool nan = false;
          if (v.inner == 1) {
            const T* row = px + base;
#pragma omp simd reduction(max : m) reduction(|| : nan)
            for (int64_t i = 0; i < v.n; ++i) {
              const C xi = C(row[i]);
              line[i] = xi;
              nan = nan || xi != xi;
              m = xi > m ? xi : m;
            }
          } else {
            for (int64_t i = 0; i < v.n; ++i) {
              line[i] = C(px[base + i * v.inner]);
              nan = nan || line[i] != line[i];
              m = line[i] > m ? line[i] : m;
            }
          }
          if (nan) m = NAN;
          if (m == -INFINITY) m = 0;  // an all -inf line gives NaN like NumPy's, not -inf - -inf
          C sum = 0;
          if constexpr (kLog) {
#pragma omp simd reduction(+ : sum)
            for (int64_t i = 0; i < v.n; ++i) {
              line[i] = line[i] - m;
              sum += math::fexp(line[i]);
            }
            const C ls = math::flog(sum);
            for (int64_t i = 0; i < v.n; ++i) po[base + i * v.inner] = T(line[i] - ls);
          } else {
#pragma omp simd reduction(+ : sum)
            for (int64_t i = 0; i < v.n; ++i) {
              line[i] = math::fexp(line[i] - m);
              sum += line[i];
            }
            const C inv = C(1) / sum;
            for (int64_t i = 0; i < v.n; ++i) po[base + i * v.inner] = T(line[i] * inv);
          }
        }
      });
    }
  });
}

TS_CPU_KERNEL("softmax", softmax_kernel<false>);
TS_CPU_KERNEL("log_softmax", softmax_kernel<true>);

}  // namespace
}  // namespace ts::cpu
