#include "backends/cpu/reduce.h"

#include <cmath>
#include <limits>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/movement.h"
#include "ir/scalar_types.h"

namespace ts::cpu {
namespace {

template <class T>
using acc_t = std::conditional_t<is_float_v<T>, double, int64_t>;

template <class T>
acc_t<T> reduce_row(const T* p, int64_t n, Reduce kind) {
  using A = acc_t<T>;
  switch (kind) {
    case Reduce::Sum:
    case Reduce::Mean: {
      A s = 0;
      if constexpr (std::is_integral_v<A>) {
        for (int64_t i = 0; i < n; ++i) s = A(uint64_t(s) + uint64_t(A(p[i])));
      } else {
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < n; ++i) s += A(compute_t<T>(p[i]));
      }
      return s;
    }
    case Reduce::Prod: {
      A s = 1;
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_integral_v<A>) s = A(uint64_t(s) * uint64_t(A(p[i])));
        else s *= A(compute_t<T>(p[i]));
      }
      return s;
    }
    case Reduce::Max:
    case Reduce::Min: {
      const bool mx = kind == Reduce::Max;
      using C = compute_t<T>;  // empty: the identity of T itself
      A s = std::is_integral_v<A> ? A(mx ? std::numeric_limits<C>::lowest() : std::numeric_limits<C>::max())
                                  : A(mx ? -INFINITY : INFINITY);
      for (int64_t i = 0; i < n; ++i) {
        A v = A(compute_t<T>(p[i]));
        if constexpr (!std::is_integral_v<A>) {
          if (std::isnan(v)) return v;
        }
        if (mx ? v > s : v < s) s = v;
      }
      return s;
    }
  }
  return 0;
}

}  // namespace

AxisView axis_view(const Dims& shape, int axis) {
  AxisView v;
  for (int d = 0; d < int(shape.size()); ++d) {
    if (d < axis) v.outer *= shape[d];
    else if (d == axis) v.n = shape[d];
    else v.inner *= shape[d];
  }
  return v;
}

void reduce(const NDArray& x, const std::vector<int>& axes, Reduce kind, NDArray& out) {
  // Move the reduced axes last so each output element reduces one contiguous row.
  const int rank = x.rank();
  std::vector<bool> reduced(rank, false);
  for (int a : axes) reduced[a] = true;
  Dims perm_shape, perm_strides, strides = contiguous_strides(x.shape());
  bool in_order = true;
  int64_t row = 1;
  for (int pass = 0; pass < 2; ++pass)
    for (int d = 0; d < rank; ++d)
      if (reduced[d] == (pass == 1)) {
        perm_shape.push_back(x.shape()[d]);
        perm_strides.push_back(strides[d]);
        if (pass == 1) row *= x.shape()[d];
      }
  for (int d = 0; d < rank; ++d) in_order = in_order && perm_strides[d] == strides[d];
  NDArray src = x;
  if (!in_order) {
    src = NDArray(perm_shape, x.dtype());
    copy_strided(x, 0, perm_strides, src);
  }
  const int64_t count = out.size();
  dispatch_all(x.dtype(), [&](auto xt) {
    using T = decltype(xt);
    dispatch_all(out.dtype(), [&](auto ot) {
      using O = decltype(ot);
      const T* p = src.data_as<T>();
      O* po = out.data_as<O>();
      parallel_for(count, std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(row, 1)), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
          auto s = reduce_row(p + i * row, row, kind);
          if (kind == Reduce::Mean) po[i] = convert<O>(double(s) / double(row));
          else po[i] = convert<O>(s);
        }
      });
    });
  });
}

void arg_reduce(const NDArray& x, int axis, bool is_max, NDArray& out) {
  AxisView v = axis_view(x.shape(), axis);
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* p = x.data_as<T>();
    int64_t* po = out.data_as<int64_t>();
    parallel_for(v.outer * v.inner, 1024, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        int64_t o = k / v.inner, in = k % v.inner, best = 0;
        const T* col = p + o * v.n * v.inner + in;
        C bv = C(col[0]);
        for (int64_t i = 1; i < v.n; ++i) {
          C cv = C(col[i * v.inner]);
          if constexpr (std::is_floating_point_v<C>) {
            if (std::isnan(bv)) break;
            if (std::isnan(cv)) { best = i; break; }
          }
          if (is_max ? cv > bv : cv < bv) { bv = cv; best = i; }
        }
        po[k] = best;
      }
    });
  });
}

}  // namespace ts::cpu
