// Ordering along an axis: sort, argsort, top_k (stable; NaN sorts as the
// largest value, so last ascending as in NumPy), and cumsum.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "backends/cpu/reduce.h"
#include "ir/scalar_types.h"
#include "ops/infer_util.h"
#include "runtime/thread_pool.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

int axis_attr(const InferCtx& c, int rank) { return normalize_axis(c, c.has("axis") ? c.i("axis") : -1, rank); }
int kernel_axis(const KernelCtx& k, int rank) {
  int a = k.node.attrs.count("axis") ? int(k.i("axis")) : -1;
  return a < 0 ? a + rank : a;
}
bool flag(const KernelCtx& k, const char* key) { return k.node.attrs.count(key) && k.i(key) != 0; }

std::vector<TensorType> checked_same(InferCtx& c) {
  if (c.in[0].ranked) {
    if (c.in[0].dims.empty()) c.fail("needs an input of rank >= 1; got " + c.in[0].str());
    axis_attr(c, int(c.in[0].dims.size()));
  }
  return {c.in[0]};
}

// For every line along the axis: the first k positions of its stable order.
void order(const KernelCtx& k, const NDArray& x, int axis, bool descending, int64_t keep, NDArray* values, NDArray* indices) {
  cpu::AxisView v = cpu::axis_view(x.shape(), axis);
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
  order(k, k.in[0], kernel_axis(k, k.in[0].rank()), flag(k, "descending"), k.in[0].shape().empty() ? 0 :
        k.in[0].shape()[kernel_axis(k, k.in[0].rank())], &k.out[0], nullptr);
}
Grads g_sort(GradCtx& c) {
  Tensor perm = c.op("argsort", {c.x[0]}, c.attrs());
  return {c.op("scatter_add_along_axis", {c.zeros_like(c.x[0]), perm, c.dy[0]}, {{"axis", c.attrs().count("axis") ? c.attrs().at("axis") : Attr(int64_t(-1))}})};
}

std::vector<TensorType> infer_argsort(InferCtx& c) {
  TensorType t = checked_same(c)[0];
  t.dtype = DType::Int64;
  return {t};
}
void argsort_kernel(KernelCtx& k) {
  int axis = kernel_axis(k, k.in[0].rank());
  order(k, k.in[0], axis, flag(k, "descending"), k.in[0].shape()[axis], nullptr, &k.out[0]);
}

std::vector<TensorType> infer_top_k(InferCtx& c) {
  TensorType t = checked_same(c)[0];
  int64_t kk = c.i("k");
  if (kk < 0) c.fail("k must be >= 0; got " + std::to_string(kk));
  if (t.ranked) {
    int axis = axis_attr(c, int(t.dims.size()));
    if (t.dims[axis] >= 0 && kk > t.dims[axis])
      c.fail("k = " + std::to_string(kk) + " exceeds dimension " + std::to_string(axis) + " of " + t.str());
    t.dims[axis] = kk;
  }
  TensorType idx = t;
  idx.dtype = DType::Int64;
  return {t, idx};
}
void top_k_kernel(KernelCtx& k) {
  int axis = kernel_axis(k, k.in[0].rank());
  order(k, k.in[0], axis, true, k.i("k"), &k.out[0], &k.out[1]);
}
Grads g_top_k(GradCtx& c) {
  Attr axis = c.attrs().count("axis") ? c.attrs().at("axis") : Attr(int64_t(-1));
  return {c.op("scatter_add_along_axis", {c.zeros_like(c.x[0]), c.y[1], c.dy[0]}, {{"axis", axis}})};
}

// ---- cumsum(x, axis, exclusive=0, reverse=0) ----
std::vector<TensorType> infer_cumsum(InferCtx& c) {
  TensorType t = checked_same(c)[0];
  if (t.dtype == DType::Bool) t.dtype = DType::Int64;
  return {t};
}
void cumsum_kernel(KernelCtx& k) {
  NDArray x = k.in[0].dtype() == k.out[0].dtype() ? k.in[0] : k.in[0].astype(k.out[0].dtype());
  cpu::AxisView v = cpu::axis_view(x.shape(), kernel_axis(k, x.rank()));
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
Grads g_cumsum(GradCtx& c) {
  Attrs attrs = c.attrs();
  attrs["reverse"] = int64_t(!c.flag("reverse"));
  return {c.op("cumsum", {c.dy[0]}, attrs)};
}

const bool registered = [] {
  register_op(make_op("sort", OpClass::Sort, 1, checked_same, sort_kernel, g_sort));
  register_op(make_op("argsort", OpClass::Sort, 1, infer_argsort, argsort_kernel, nullptr));
  register_op(make_op("top_k", OpClass::Sort, 1, infer_top_k, top_k_kernel, g_top_k));
  register_op(make_op("cumsum", OpClass::Sort, 1, infer_cumsum, cumsum_kernel, g_cumsum));
  return true;
}();

}  // namespace
}  // namespace ts
