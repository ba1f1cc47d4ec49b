// Neural-network ops with kernels of their own: softmax and log_softmax
// along one axis. Each line is read from memory once: its max and the sum of
// exponentials are found while the line is in cache, then it is written.
#include <cmath>

#include "backends/cpu/reduce.h"
#include "ir/scalar_types.h"
#include "ops/fast_math.h"
#include "ops/infer_util.h"
#include "ops/grad_ctx.h"
#include "runtime/thread_pool.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

std::vector<TensorType> infer_softmax(InferCtx& c) {
  expect_dtype(c, is_floating(c.in[0].dtype), c.in[0], "a floating dtype");
  if (c.in[0].ranked) {
    if (c.in[0].dims.empty()) c.fail("needs an input of rank >= 1; got " + c.in[0].str());
    normalize_axis(c, c.i("axis"), int(c.in[0].dims.size()));
  }
  return {c.in[0]};
}

template <bool kLog>
void softmax_kernel(KernelCtx& k) {
  const NDArray& x = k.in[0];
  int axis = int(k.i("axis"));
  if (axis < 0) axis += x.rank();
  const cpu::AxisView v = cpu::axis_view(x.shape(), axis);
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

Attrs keep_axis(const GradCtx& c) {
  return {{"axes", std::vector<int64_t>{c.i("axis")}}, {"keepdims", int64_t(1)}};
}
// dx = y * (dy - sum(dy * y))
Grads g_softmax(GradCtx& c) {
  const Tensor &y = c.y[0], &dy = c.dy[0];
  return {c.mul(y, c.sub(dy, c.op("reduce_sum", {c.mul(dy, y)}, keep_axis(c))))};
}
// dx = dy - exp(y) * sum(dy)
Grads g_log_softmax(GradCtx& c) {
  const Tensor &y = c.y[0], &dy = c.dy[0];
  return {c.sub(dy, c.mul(c.op("exp", {y}), c.op("reduce_sum", {dy}, keep_axis(c))))};
}

const bool registered = [] {
  register_op(make_op("softmax", OpClass::Reduction, 1, infer_softmax, softmax_kernel<false>, g_softmax));
  register_op(make_op("log_softmax", OpClass::Reduction, 1, infer_softmax, softmax_kernel<true>, g_log_softmax));
  return true;
}();

}  // namespace
}  // namespace ts
