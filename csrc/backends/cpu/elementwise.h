// CPU kernels for elementwise ops: one template per arity, instantiated with
// the op's functor from ops/elementwise_math.h.
#pragma once
#include <type_traits>

#include "backends/cpu/broadcast.h"
#include "ir/scalar_types.h"
#include "ops/op_def.h"

namespace ts::cpu {

// Which element types a functor is defined for.
enum class Domain { Float, Numeric, Any };

template <Domain D, class T>
constexpr bool in_domain = D == Domain::Any || (D == Domain::Float && is_float_v<T>) ||
                           (D == Domain::Numeric && !std::is_same_v<T, bool>);

inline NDArray as_dtype(const NDArray& a, DType dt) { return a.dtype() == dt ? a : a.astype(dt); }

// out = F(in); the input is first converted to `compute` (the output type,
// or the input's own type for predicates).
template <class F, Domain D, bool kBoolOut>
void unary(KernelCtx& k) {
  NDArray& out = k.out[0];
  NDArray x = kBoolOut ? k.in[0] : as_dtype(k.in[0], out.dtype());
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (in_domain<D, T>) {
      using C = compute_t<T>;
      using O = std::conditional_t<kBoolOut, bool, T>;
      const T* px = x.data_as<T>();
      O* po = out.data_as<O>();
      parallel_for(out.size(), 1 << 14, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) po[i] = O(F::f(C(px[i])));
      });
    }
  });
}

// out = F(a, b) with broadcasting; arithmetic in the output type, comparisons
// and logic in the promoted input type.
template <class F, Domain D, bool kBoolOut>
void binary(KernelCtx& k) {
  NDArray& out = k.out[0];
  DType ct = kBoolOut ? promote_types(k.in[0].dtype(), k.in[1].dtype()) : out.dtype();
  NDArray a = as_dtype(k.in[0], ct), b = as_dtype(k.in[1], ct);
  Broadcast bc = make_broadcast(out.shape(), {a.shape(), b.shape()});
  dispatch_all(ct, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (in_domain<D, T>) {
      using C = compute_t<T>;
      using O = std::conditional_t<kBoolOut, bool, T>;
      const T* pa = a.data_as<T>();
      const T* pb = b.data_as<T>();
      O* po = out.data_as<O>();
      for_each_row<2>(bc, [&](int64_t o, std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
        const T* ra = pa + off[0];
        const T* rb = pb + off[1];
        O* ro = po + o;
        if (st[0] == 1 && st[1] == 1) {
          for (int64_t i = 0; i < n; ++i) ro[i] = O(F::f(C(ra[i]), C(rb[i])));
        } else if (st[0] == 1 && st[1] == 0) {
          const C vb = C(rb[0]);
          for (int64_t i = 0; i < n; ++i) ro[i] = O(F::f(C(ra[i]), vb));
        } else if (st[0] == 0 && st[1] == 1) {
          const C va = C(ra[0]);
          for (int64_t i = 0; i < n; ++i) ro[i] = O(F::f(va, C(rb[i])));
        } else {
          for (int64_t i = 0; i < n; ++i) ro[i] = O(F::f(C(ra[i * st[0]]), C(rb[i * st[1]])));
        }
      });
    }
  });
}

// out = F(x, a, b) with broadcasting; x is converted to `first` (bool for
// select, the output type for clamp), a and b to the output type.
template <class F, bool kBoolFirst>
void ternary(KernelCtx& k) {
  NDArray& out = k.out[0];
  NDArray x = as_dtype(k.in[0], kBoolFirst ? DType::Bool : out.dtype());
  NDArray a = as_dtype(k.in[1], out.dtype()), b = as_dtype(k.in[2], out.dtype());
  Broadcast bc = make_broadcast(out.shape(), {x.shape(), a.shape(), b.shape()});
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    using X = std::conditional_t<kBoolFirst, bool, T>;
    using XC = std::conditional_t<kBoolFirst, bool, C>;
    const X* px = x.data_as<X>();
    const T* pa = a.data_as<T>();
    const T* pb = b.data_as<T>();
    T* po = out.data_as<T>();
    for_each_row<3>(bc, [&](int64_t o, std::array<int64_t, 3> off, int64_t n, std::array<int64_t, 3> st) {
      for (int64_t i = 0; i < n; ++i)
        po[o + i] = T(F::f(XC(px[off[0] + i * st[0]]), C(pa[off[1] + i * st[1]]), C(pb[off[2] + i * st[2]])));
    });
  });
}

}  // namespace ts::cpu

namespace ts::cpu {

// Tile forms for fused regions: registers hold the compute type C.
template <class F, class C, int kArity, bool kBoolFirst>
void tile_apply(C* d, const C* a, const C* b, const C* c, int64_t n) {
  if constexpr (kArity == 1) {
    for (int64_t i = 0; i < n; ++i) d[i] = C(F::f(a[i]));
  } else if constexpr (kArity == 2) {
    for (int64_t i = 0; i < n; ++i) d[i] = C(F::f(a[i], b[i]));
  } else if constexpr (kBoolFirst) {
    for (int64_t i = 0; i < n; ++i) d[i] = C(F::f(a[i] != C(0), b[i], c[i]));
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = C(F::f(a[i], b[i], c[i]));
  }
}

template <class F, int kArity, bool kBoolFirst = false>
TileFns tile_of(const detail::Node&) {
  return {tile_apply<F, float, kArity, kBoolFirst>, tile_apply<F, double, kArity, kBoolFirst>};
}

}  // namespace ts::cpu
