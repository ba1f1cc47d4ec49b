// Scalar semantics of the elementwise ops, one functor each, templated on the
// compute type (float or double for floats, the type itself for integers and
// bool). Integer arithmetic wraps around like NumPy's instead of overflowing
// into undefined behaviour.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/fast_math.h"

namespace ts::math {

template <class T> using wide_u = std::make_unsigned_t<std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>>;

template <class T> inline T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(wide_u<T>(a) + wide_u<T>(b)); else return a + b;
}
template <class T> inline T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(wide_u<T>(a) - wide_u<T>(b)); else return a - b;
}
template <class T> inline T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>) return T(uint64_t(a) * uint64_t(b)); else return a * b;
}

// ---- unary: floats only (integers are promoted to float32 by the rule) ----
#define TS_FLOAT_FN(Name, expr) \
  struct Name { template <class C> static C f(C a) { return expr; } };
TS_FLOAT_FN(Exp, fexp(a))
TS_FLOAT_FN(Exp2, std::exp2(a))
TS_FLOAT_FN(Log, flog(a))
TS_FLOAT_FN(Log2, std::log2(a))
TS_FLOAT_FN(Log1p, std::log1p(a))
TS_FLOAT_FN(Expm1, std::expm1(a))
TS_FLOAT_FN(Sin, std::sin(a))
TS_FLOAT_FN(Cos, std::cos(a))
TS_FLOAT_FN(Tan, std::tan(a))
TS_FLOAT_FN(Asin, std::asin(a))
TS_FLOAT_FN(Acos, std::acos(a))
TS_FLOAT_FN(Atan, std::atan(a))
TS_FLOAT_FN(Sinh, std::sinh(a))
TS_FLOAT_FN(Cosh, std::cosh(a))
TS_FLOAT_FN(Tanh, ftanh(a))
TS_FLOAT_FN(Asinh, std::asinh(a))
TS_FLOAT_FN(Acosh, std::acosh(a))
TS_FLOAT_FN(Atanh, std::atanh(a))
TS_FLOAT_FN(Erf, ferf(a))
TS_FLOAT_FN(Sqrt, std::sqrt(a))
TS_FLOAT_FN(Rsqrt, C(1) / std::sqrt(a))
TS_FLOAT_FN(Reciprocal, C(1) / a)
TS_FLOAT_FN(Sigmoid, C(1) / (C(1) + fexp(-a)))
TS_FLOAT_FN(Gelu, C(0.5) * a * (C(1) + ferf(a * C(0.70710678118654752440))))
#undef TS_FLOAT_FN

// ---- unary: numeric, result in the input's type ----
// Floats flip or clear the sign bit, so -0.0 and +0.0 come out as IEEE says.
struct Negative { template <class C> static C f(C a) {
  if constexpr (std::is_floating_point_v<C>) return -a; else return wrap_sub(C(0), a); } };
struct Abs { template <class C> static C f(C a) {
  if constexpr (std::is_floating_point_v<C>) return std::fabs(a);
  else if constexpr (std::is_unsigned_v<C>) return a;
  else return a < C(0) ? wrap_sub(C(0), a) : a; } };
struct Sign { template <class C> static C f(C a) {
  if constexpr (std::is_floating_point_v<C>) { if (std::isnan(a)) return a; }
  return C((C(0) < a) - (a < C(0))); } };
struct Square { template <class C> static C f(C a) { return wrap_mul(a, a); } };
struct Floor { template <class C> static C f(C a) { if constexpr (std::is_floating_point_v<C>) return std::floor(a); else return a; } };
struct Ceil { template <class C> static C f(C a) { if constexpr (std::is_floating_point_v<C>) return std::ceil(a); else return a; } };
// Half to even, like NumPy.
struct Round { template <class C> static C f(C a) { if constexpr (std::is_floating_point_v<C>) return std::nearbyint(a); else return a; } };
// max(x, 0) as NumPy computes it: -0.0 gives +0.0, NaN passes through.
struct Relu { template <class C> static C f(C a) { return a <= C(0) ? C(0) : a; } };

// ---- unary: predicates, result bool ----
struct IsNan { template <class C> static bool f(C a) { if constexpr (std::is_floating_point_v<C>) return std::isnan(a); else return false; } };
struct IsInf { template <class C> static bool f(C a) { if constexpr (std::is_floating_point_v<C>) return std::isinf(a); else return false; } };
struct IsFinite { template <class C> static bool f(C a) { if constexpr (std::is_floating_point_v<C>) return std::isfinite(a); else return true; } };
struct LogicalNot { template <class C> static bool f(C a) { return a == C(0); } };

// ---- binary: arithmetic in the promoted type ----
struct Add { template <class C> static C f(C a, C b) { if constexpr (std::is_same_v<C, bool>) return a || b; else return wrap_add(a, b); } };
struct Subtract { template <class C> static C f(C a, C b) { return wrap_sub(a, b); } };
struct Multiply { template <class C> static C f(C a, C b) { if constexpr (std::is_same_v<C, bool>) return a && b; else return wrap_mul(a, b); } };
struct Divide { template <class C> static C f(C a, C b) { return a / b; } };  // floats only

// Python's floor division and modulo (NumPy's npy_divmod for floats); integer
// division by zero gives 0, as NumPy does.
struct FloorDivide { template <class C> static C f(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (b == C(0)) return a / b;
    C mod = std::fmod(a, b);
    C div = (a - mod) / b;
    if (mod != C(0) && ((b < C(0)) != (mod < C(0)))) div -= C(1);
    if (div == C(0)) return std::copysign(C(0), a / b);
    C fl = std::floor(div);
    return div - fl > C(0.5) ? fl + C(1) : fl;
  } else {
    if (b == C(0)) return C(0);
    if constexpr (std::is_signed_v<C>) {
      if (a == std::numeric_limits<C>::min() && b == C(-1)) return a;  // wraps, as NumPy
      C q = C(a / b);
      return (a % b != 0 && ((a < 0) != (b < 0))) ? C(q - 1) : q;
    }
    return C(a / b);
  } } };
struct Modulo { template <class C> static C f(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) {
    if (b == C(0)) return std::fmod(a, b);
    C mod = std::fmod(a, b);
    if (mod != C(0)) { if ((b < C(0)) != (mod < C(0))) mod += b; }
    else mod = std::copysign(C(0), b);
    return mod;
  } else {
    if (b == C(0)) return C(0);
    if constexpr (std::is_signed_v<C>) {
      if (b == C(-1)) return C(0);
      C r = C(a % b);
      return (r != 0 && ((r < 0) != (b < 0))) ? C(r + b) : r;
    }
    return C(a % b);
  } } };
struct Power { template <class C> static C f(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) return std::pow(a, b);
  else {
    if constexpr (std::is_signed_v<C>) {
      if (b < 0) return a == C(1) ? C(1) : a == C(-1) ? ((b & 1) ? C(-1) : C(1)) : C(0);
    }
    C r = C(1), base = a;
    for (auto e = b; e > 0; e >>= 1) {
      if (e & 1) r = wrap_mul(r, base);
      base = wrap_mul(base, base);
    }
    return r;
  } } };
// NaN-propagating, like NumPy's maximum/minimum.
struct Maximum { template <class C> static C f(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) { if (std::isnan(a) || std::isnan(b)) return a + b; }
  return a < b ? b : a; } };
struct Minimum { template <class C> static C f(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) { if (std::isnan(a) || std::isnan(b)) return a + b; }
  return b < a ? b : a; } };
struct Atan2 { template <class C> static C f(C a, C b) { return std::atan2(a, b); } };

// ---- binary: comparisons and logic, result bool ----
struct Equal { template <class C> static bool f(C a, C b) { return a == b; } };
struct NotEqual { template <class C> static bool f(C a, C b) { return a != b; } };
struct Less { template <class C> static bool f(C a, C b) { return a < b; } };
struct LessEqual { template <class C> static bool f(C a, C b) { return a <= b; } };
struct Greater { template <class C> static bool f(C a, C b) { return a > b; } };
struct GreaterEqual { template <class C> static bool f(C a, C b) { return a >= b; } };
struct LogicalAnd { template <class C> static bool f(C a, C b) { return (a != C(0)) && (b != C(0)); } };
struct LogicalOr { template <class C> static bool f(C a, C b) { return (a != C(0)) || (b != C(0)); } };
struct LogicalXor { template <class C> static bool f(C a, C b) { return (a != C(0)) != (b != C(0)); } };

}  // namespace ts::math
