// CPU kernels of sort, argsort, top_k and cumsum along one axis.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/reduce.h"
#include "ir/scalar_types.h"
#include "runtime/thread_pool.h"

namespace ts::cpu {
namespace {

bool flag(const KernelCtx& k, const char* key) { return k.node.attrs.count(key) && k.i(key) != 0; }

// For every line along the axis: the first k positions of its stable order.
void order(const KernelCtx& k, const NDArray& x, int axis, bool descending, int64_t keep, NDArray* values, NDArray* indices) {
  AxisView v = axis_view(x.shape(), axis);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* p = x.data_as<T>();
    parallel_for(v.outer * v.inner, 64, [&](int64_t b, int64_t e) {
      std::vector<int64_t> perm(v.n);
      std::vector<C> line(v.n);
      for (int64_t l = b; l < e; ++l) {
        int64_t o = l / v.inner, in = l % v.inner;
        for (int64_t i = 0; i < v.n; ++i) line[i] = C(p[(o * v.n + i) * v.inner + in]);
        std::iota(perm.begin(), perm.end(), 0);
        auto before = [&](int64_t a, int64_t c) {
          C x1 = line[a], x2 = line[c];
          if constexpr (std::is_floating_point_v<C>) {
            bool n1 = std::isnan(x1), n2 = std::isnan(x2);
            if (n1 || n2) return descending ? (n1 && !n2) : (!n1 && n2);
          }
          return descending ? x1 > x2 : x1 < x2;
        };
        std::stable_sort(perm.begin(), perm.end(), before);
        for (int64_t j = 0; j < keep; ++j) {
          int64_t at = (o * keep + j) * v.inner + in;
          if (values) values->data_as<T>()[at] = p[(o * v.n + perm[j]) * v.inner + in];
          if (indices) indices->data_as<int64_t>()[at] = perm[j];
        }
      }
    });
  });
}

void sort_kernel(KernelCtx& k) {
  order(k, k.in[0], k.axis(k.in[0].rank()), flag(k, "descending"), k.in[0].shape().empty() ? 0 :
        k.in[0].shape()[k.axis(k.in[0].rank())], &k.out[0], nullptr);
}

void argsort_kernel(KernelCtx& k) {
  int axis = k.axis(k.in[0].rank());
  order(k, k.in[0], axis, flag(k, "descending"), k.in[0].shape()[axis], nullptr, &k.out[0]);
}

void top_k_kernel(KernelCtx& k) {
  int axis = k.axis(k.in[0].rank());
  order(k, k.in[0], axis, true, k.i("k"), &k.out[0], &k.out[1]);
}

void cumsum_kernel(KernelCtx& k) {
  NDArray x = k.in[0].dtype() == k.out[0].dtype() ? k.in[0] : k.in[0].astype(k.out[0].dtype());
  AxisView v = axis_view(x.shape(), k.axis(x.rank()));
  const bool exclusive = flag(k, "exclusive"), reverse = flag(k, "reverse");
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = std::conditional_t<is_float_v<T>, double, uint64_t>;  // unsigned: wraps like NumPy
    const T* p = x.data_as<T>();
    T* o = k.out[0].data_as<T>();
    parallel_for(v.outer * v.inner, 256, [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l) {
        int64_t base = (l / v.inner) * v.n * v.inner + l % v.inner;
        A s = 0;
        for (int64_t j = 0; j < v.n; ++j) {
          int64_t at = base + (reverse ? v.n - 1 - j : j) * v.inner;
          A val = A(compute_t<T>(p[at]));
          if (!exclusive) s += val;
          o[at] = convert<T>(std::conditional_t<is_float_v<T>, double, int64_t>(s));
          if (exclusive) s += val;
        }
      }
    });
  });
}

TS_CPU_KERNEL("sort", sort_kernel);
TS_CPU_KERNEL("argsort", argsort_kernel);
TS_CPU_KERNEL("top_k", top_k_kernel);
TS_CPU_KERNEL("cumsum", cumsum_kernel);

}  // namespace
}  // namespace ts::cpu
