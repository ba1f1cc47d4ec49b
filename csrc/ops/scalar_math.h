// The scalar function of every elementwise op, written once for every
// backend. This file is portable: it includes nothing and uses only what a
// host C++17 compiler and NVRTC both accept. A shim defined before it
// supplies TS_FN (the function qualifiers) and ts::sm, the intrinsics
// (exp, fma, bit casts, ...): ops/scalar_shim_host.h on the CPU,
// shaders/cuda/shim.cuh in generated CUDA source, which embeds this file.
//
// Each functor is templated on the register type C: float or double for
// floats, long long (int64) for integers and bool. Integer arithmetic wraps
// like NumPy's instead of overflowing into undefined behaviour; the caller
// rounds a register to the op's result dtype after each step.

namespace ts {
namespace math {

// ---- traits, without <type_traits> ----
template <class A, class B> struct same { static constexpr bool value = false; };
template <class A> struct same<A, A> { static constexpr bool value = true; };
template <class C> constexpr bool is_float = same<C, float>::value || same<C, double>::value;
template <class C> struct unsigned_of { typedef C type; };
template <> struct unsigned_of<bool> { typedef unsigned char type; };
template <> struct unsigned_of<signed char> { typedef unsigned char type; };
template <> struct unsigned_of<int> { typedef unsigned int type; };
template <> struct unsigned_of<long> { typedef unsigned long type; };
template <> struct unsigned_of<long long> { typedef unsigned long long type; };
template <class C> constexpr bool is_signed_int = same<C, signed char>::value || same<C, int>::value ||
                                                  same<C, long>::value || same<C, long long>::value;
template <class C> constexpr C lowest_int() { return C(typename unsigned_of<C>::type(1) << (sizeof(C) * 8 - 1)); }

template <class T> TS_FN T wrap_add(T a, T b) {
  if constexpr (is_float<T>) return a + b;
  else return T(typename unsigned_of<T>::type(a) + typename unsigned_of<T>::type(b));
}
template <class T> TS_FN T wrap_sub(T a, T b) {
  if constexpr (is_float<T>) return a - b;
  else return T(typename unsigned_of<T>::type(a) - typename unsigned_of<T>::type(b));
}
template <class T> TS_FN T wrap_mul(T a, T b) {
  if constexpr (is_float<T>) return a * b;
  else return T((unsigned long long)(a) * (unsigned long long)(b));
}

// ---- branch-free float32 exp, log, erf and tanh ----
// Compilers vectorize these (the C library's are scalar calls), and a GPU
// gets the same results. Each is within a few ulp (at most 6) of the
// correctly rounded result (tests/test_fast_math.py measures it); float64
// keeps the platform's functions.

// exp(x) = 2^n * exp(r), n = rint(x / ln 2), r = x - n ln 2 (ln 2 split in
// two so r is exact), exp(r) by its Taylor polynomial of degree 7 (|r| <=
// 0.347: truncation < 1e-8 relative). 2^n is applied in two halves so
// results in the subnormal range come out right.
TS_FN float exp_f32(float x) {
  // NaN is handled at the end; here it becomes 0 so the integer part below is defined.
  const float lo = x < -104.0f ? -104.0f : (x != x ? 0.0f : x), xc = lo > 89.0f ? 89.0f : lo;
  const float n = sm::rint(xc * 1.44269504088896341f);
  float r = sm::fma(n, -0.693145751953125f, xc);
  r = sm::fma(n, -1.428606765330187e-06f, r);
  float p = 1.0f / 5040.0f;
  p = sm::fma(p, r, 1.0f / 720.0f);
  p = sm::fma(p, r, 1.0f / 120.0f);
  p = sm::fma(p, r, 1.0f / 24.0f);
  p = sm::fma(p, r, 1.0f / 6.0f);
  p = sm::fma(p, r, 0.5f);
  p = sm::fma(p, r, 1.0f);
  p = sm::fma(p, r, 1.0f);
  const int ni = int(n), n1 = ni / 2, n2 = ni - n1;
  float y = p * sm::int_as_float(int((unsigned int)(n1 + 127) << 23)) *
            sm::int_as_float(int((unsigned int)(n2 + 127) << 23));
  y = x > 88.7228391f ? sm::inf_f32() : y;
  y = x < -103.972084f ? 0.0f : y;
  return x != x ? x : y;
}

// log(x) = e ln 2 + log(m), m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s)
// with s = (m - 1) / (m + 1), |s| <= 0.172, by its series to s^11.
TS_FN float log_f32(float x) {
  const bool sub = x < 1.17549435e-38f;
  const float xs = sub ? x * 8388608.0f : x;  // lift subnormals by 2^23
  const int bits = sm::float_as_int(xs);
  int e = ((bits >> 23) & 0xff) - 127;
  float m = sm::int_as_float((bits & 0x7fffff) | 0x3f800000);
  const bool big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e = big ? e + 1 : e;
  const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  float p = 1.0f / 11.0f;
  p = sm::fma(p, s2, 1.0f / 9.0f);
  p = sm::fma(p, s2, 1.0f / 7.0f);
  p = sm::fma(p, s2, 1.0f / 5.0f);
  p = sm::fma(p, s2, 1.0f / 3.0f);
  p = sm::fma(p, s2, 1.0f);
  const float fe = float(e) - (sub ? 23.0f : 0.0f);
  float y = sm::fma(fe, 0.693145751953125f, sm::fma(fe, 1.428606765330187e-06f, 2.0f * s * p));
  y = x == 0.0f ? -sm::inf_f32() : y;
  y = x < 0.0f ? sm::nan_f32() : y;
  y = x == sm::inf_f32() ? x : y;
  return x != x ? x : y;
}

// erf(x) = x P(x^2) / Q(x^2) on |x| <= 3.93 and +-1 beyond (where float32
// erf rounds to +-1). P (degree 5) and Q (degree 5) were fitted for this
// project by iteratively reweighted least squares on the relative error
// (Loeb's method); within 6 ulp, the worst near |x| = 3.7 where erf is 1 -
// 3e-7. One division and eleven FMAs: GeLU is memory-bound with it.
TS_FN float erf_f32(float x) {
  const float c = x < -3.93f ? -3.93f : (x > 3.93f ? 3.93f : x), t = c * c;
  float p = 2.0419760035916834e-06f;
  p = sm::fma(p, t, 0.0002848077382292813f);
  p = sm::fma(p, t, 0.0037795745074645343f);
  p = sm::fma(p, t, 0.05279017977229774f);
  p = sm::fma(p, t, 0.19078303262877166f);
  p = sm::fma(p, t, 1.1283791453904788f);
  float q = 3.80040833794712e-05f;
  q = sm::fma(q, t, 0.0011652041137487973f);
  q = sm::fma(q, t, 0.014997368363528565f);
  q = sm::fma(q, t, 0.11425719157612603f);
  q = sm::fma(q, t, 0.5024097802863647f);
  q = sm::fma(q, t, 1.0f);
  const float y = c * p / q;
  return x > 3.93f ? 1.0f : (x < -3.93f ? -1.0f : y);
}

// tanh: below |x| = 0.4 its odd Taylor polynomial (to x^13); above,
// 1 - 2 / (exp(2|x|) + 1), with the sign put back.
TS_FN float tanh_f32(float x) {
  const float a = sm::fabs(x), x2 = x * x;
  float p = 21844.0f / 6081075.0f;
  p = sm::fma(p, x2, -1382.0f / 155925.0f);
  p = sm::fma(p, x2, 62.0f / 2835.0f);
  p = sm::fma(p, x2, -17.0f / 315.0f);
  p = sm::fma(p, x2, 2.0f / 15.0f);
  p = sm::fma(p, x2, -1.0f / 3.0f);
  // copysign keeps tanh(-0.0) = -0.0 (the FMA alone rounds it to +0.0).
  const float small = sm::copysign(sm::fma(x * x2, p, x), x);
  const float large = sm::copysign(1.0f - 2.0f / (exp_f32(2.0f * a) + 1.0f), x);
  return a < 0.4f ? small : (x != x ? x : large);
}

// The functors call these: float32 gets the versions above.
template <class C> TS_FN C fexp(C x) { if constexpr (same<C, float>::value) return exp_f32(x); else return sm::exp(x); }
template <class C> TS_FN C flog(C x) { if constexpr (same<C, float>::value) return log_f32(x); else return sm::log(x); }
template <class C> TS_FN C ferf(C x) { if constexpr (same<C, float>::value) return erf_f32(x); else return sm::erf(x); }
template <class C> TS_FN C ftanh(C x) { if constexpr (same<C, float>::value) return tanh_f32(x); else return sm::tanh(x); }

// ---- unary: floats only (the shape rule promotes integers to float32) ----
#define TS_FLOAT_FN(Name, expr) \
  struct Name { template <class C> static TS_FN C f(C a) { return expr; } };
TS_FLOAT_FN(Exp, fexp(a))
TS_FLOAT_FN(Exp2, sm::exp2(a))
TS_FLOAT_FN(Log, flog(a))
TS_FLOAT_FN(Log2, sm::log2(a))
TS_FLOAT_FN(Log1p, sm::log1p(a))
TS_FLOAT_FN(Expm1, sm::expm1(a))
TS_FLOAT_FN(Sin, sm::sin(a))
TS_FLOAT_FN(Cos, sm::cos(a))
TS_FLOAT_FN(Tan, sm::tan(a))
TS_FLOAT_FN(Asin, sm::asin(a))
TS_FLOAT_FN(Acos, sm::acos(a))
TS_FLOAT_FN(Atan, sm::atan(a))
TS_FLOAT_FN(Sinh, sm::sinh(a))
TS_FLOAT_FN(Cosh, sm::cosh(a))
TS_FLOAT_FN(Tanh, ftanh(a))
TS_FLOAT_FN(Asinh, sm::asinh(a))
TS_FLOAT_FN(Acosh, sm::acosh(a))
TS_FLOAT_FN(Atanh, sm::atanh(a))
TS_FLOAT_FN(Erf, ferf(a))
TS_FLOAT_FN(Sqrt, sm::sqrt(a))
TS_FLOAT_FN(Rsqrt, C(1) / sm::sqrt(a))
TS_FLOAT_FN(Reciprocal, C(1) / a)
TS_FLOAT_FN(Sigmoid, C(1) / (C(1) + fexp(-a)))
TS_FLOAT_FN(Gelu, C(0.5) * a * (C(1) + ferf(a * C(0.70710678118654752440))))
#undef TS_FLOAT_FN

// ---- unary: numeric, result in the input's type ----
// The value itself: casts (the caller rounds it to the target dtype).
struct Identity { template <class C> static TS_FN C f(C a) { return a; } };
// Floats flip or clear the sign bit, so -0.0 and +0.0 come out as IEEE says.
struct Negative { template <class C> static TS_FN C f(C a) {
  if constexpr (is_float<C>) return -a; else return wrap_sub(C(0), a); } };
struct Abs { template <class C> static TS_FN C f(C a) {
  if constexpr (is_float<C>) return sm::fabs(a);
  else return a < C(0) ? wrap_sub(C(0), a) : a; } };
struct Sign { template <class C> static TS_FN C f(C a) {
  if constexpr (is_float<C>) { if (a != a) return a; }
  return C((C(0) < a) - (a < C(0))); } };
struct Square { template <class C> static TS_FN C f(C a) { return wrap_mul(a, a); } };
struct Floor { template <class C> static TS_FN C f(C a) { if constexpr (is_float<C>) return sm::floor(a); else return a; } };
struct Ceil { template <class C> static TS_FN C f(C a) { if constexpr (is_float<C>) return sm::ceil(a); else return a; } };
// Half to even, like NumPy.
struct Round { template <class C> static TS_FN C f(C a) { if constexpr (is_float<C>) return sm::rint(a); else return a; } };
// max(x, 0) as NumPy computes it: -0.0 gives +0.0, NaN passes through.
struct Relu { template <class C> static TS_FN C f(C a) { return a <= C(0) ? C(0) : a; } };

// ---- unary: predicates, result bool ----
struct IsNan { template <class C> static TS_FN bool f(C a) { if constexpr (is_float<C>) return a != a; else return false; } };
struct IsInf { template <class C> static TS_FN bool f(C a) { if constexpr (is_float<C>) return sm::isinf(a); else return false; } };
struct IsFinite { template <class C> static TS_FN bool f(C a) { if constexpr (is_float<C>) return sm::isfinite(a); else return true; } };
struct LogicalNot { template <class C> static TS_FN bool f(C a) { return a == C(0); } };

// ---- binary: arithmetic in the promoted type ----
// Bool operands arrive as 0/1 and the caller rounds the result to bool, so
// add and multiply give logical or and and.
struct Add { template <class C> static TS_FN C f(C a, C b) { return wrap_add(a, b); } };
struct Subtract { template <class C> static TS_FN C f(C a, C b) { return wrap_sub(a, b); } };
struct Multiply { template <class C> static TS_FN C f(C a, C b) { return wrap_mul(a, b); } };
struct Divide { template <class C> static TS_FN C f(C a, C b) { return a / b; } };  // floats only

// Python's floor division and modulo (NumPy's npy_divmod for floats); integer
// division by zero gives 0, as NumPy does.
struct FloorDivide { template <class C> static TS_FN C f(C a, C b) {
  if constexpr (is_float<C>) {
    if (b == C(0)) return a / b;
    C mod = sm::fmod(a, b);
    C div = (a - mod) / b;
    if (mod != C(0) && ((b < C(0)) != (mod < C(0)))) div -= C(1);
    if (div == C(0)) return sm::copysign(C(0), a / b);
    C fl = sm::floor(div);
    return div - fl > C(0.5) ? fl + C(1) : fl;
  } else {
    if (b == C(0)) return C(0);
    if constexpr (is_signed_int<C>) {
      if (a == lowest_int<C>() && b == C(-1)) return a;  // wraps, as NumPy
      C q = C(a / b);
      return (a % b != 0 && ((a < 0) != (b < 0))) ? C(q - 1) : q;
    }
    return C(a / b);
  } } };
struct Modulo { template <class C> static TS_FN C f(C a, C b) {
  if constexpr (is_float<C>) {
    if (b == C(0)) return sm::fmod(a, b);
    C mod = sm::fmod(a, b);
    if (mod != C(0)) { if ((b < C(0)) != (mod < C(0))) mod += b; }
    else mod = sm::copysign(C(0), b);
    return mod;
  } else {
    if (b == C(0)) return C(0);
    if constexpr (is_signed_int<C>) {
      if (b == C(-1)) return C(0);
      C r = C(a % b);
      return (r != 0 && ((r < 0) != (b < 0))) ? C(r + b) : r;
    }
    return C(a % b);
  } } };
struct Power { template <class C> static TS_FN C f(C a, C b) {
  if constexpr (is_float<C>) return sm::pow(a, b);
  else {
    if constexpr (is_signed_int<C>) {
      if (b < 0) return a == C(1) ? C(1) : a == C(-1) ? ((b & 1) ? C(-1) : C(1)) : C(0);
    }
    C r = C(1), base = a;
    for (C e = b; e > 0; e >>= 1) {
      if (e & 1) r = wrap_mul(r, base);
      base = wrap_mul(base, base);
    }
    return r;
  } } };
// NaN-propagating, like NumPy's maximum/minimum.
struct Maximum { template <class C> static TS_FN C f(C a, C b) {
  if constexpr (is_float<C>) { if (a != a || b != b) return a + b; }
  return a < b ? b : a; } };
struct Minimum { template <class C> static TS_FN C f(C a, C b) {
  if constexpr (is_float<C>) { if (a != a || b != b) return a + b; }
  return b < a ? b : a; } };
struct Atan2 { template <class C> static TS_FN C f(C a, C b) { return sm::atan2(a, b); } };

// ---- binary: comparisons and logic, result bool ----
struct Equal { template <class C> static TS_FN bool f(C a, C b) { return a == b; } };
struct NotEqual { template <class C> static TS_FN bool f(C a, C b) { return a != b; } };
struct Less { template <class C> static TS_FN bool f(C a, C b) { return a < b; } };
struct LessEqual { template <class C> static TS_FN bool f(C a, C b) { return a <= b; } };
struct Greater { template <class C> static TS_FN bool f(C a, C b) { return a > b; } };
struct GreaterEqual { template <class C> static TS_FN bool f(C a, C b) { return a >= b; } };
struct LogicalAnd { template <class C> static TS_FN bool f(C a, C b) { return (a != C(0)) && (b != C(0)); } };
struct LogicalOr { template <class C> static TS_FN bool f(C a, C b) { return (a != C(0)) || (b != C(0)); } };
struct LogicalXor { template <class C> static TS_FN bool f(C a, C b) { return (a != C(0)) != (b != C(0)); } };

// ---- ternary ----
// The condition arrives as 0/1 in the register type.
struct Select { template <class C> static TS_FN C f(C c, C a, C b) { return c != C(0) ? a : b; } };
struct Clamp { template <class C> static TS_FN C f(C x, C lo, C hi) { return Minimum::f(Maximum::f(x, lo), hi); } };

}  // namespace math
}  // namespace ts

// Every scalar function above, once: X(functor, arity, domain). Domain is
// the register types it is defined for: Float (float and double registers)
// or Any (also int64 registers). Backends build their tables from this list;
// an op names its functor in its declaration.
#define TS_SCALAR_FUNCTIONS(X) \
  X(Exp, 1, Float) X(Exp2, 1, Float) X(Log, 1, Float) X(Log2, 1, Float) X(Log1p, 1, Float) X(Expm1, 1, Float) \
  X(Sin, 1, Float) X(Cos, 1, Float) X(Tan, 1, Float) X(Asin, 1, Float) X(Acos, 1, Float) X(Atan, 1, Float) \
  X(Sinh, 1, Float) X(Cosh, 1, Float) X(Tanh, 1, Float) X(Asinh, 1, Float) X(Acosh, 1, Float) X(Atanh, 1, Float) \
  X(Erf, 1, Float) X(Sqrt, 1, Float) X(Rsqrt, 1, Float) X(Reciprocal, 1, Float) X(Sigmoid, 1, Float) \
  X(Gelu, 1, Float) X(Identity, 1, Any) X(Negative, 1, Any) X(Abs, 1, Any) X(Sign, 1, Any) X(Square, 1, Any) \
  X(Floor, 1, Any) X(Ceil, 1, Any) X(Round, 1, Any) X(Relu, 1, Any) X(IsNan, 1, Any) X(IsInf, 1, Any) \
  X(IsFinite, 1, Any) X(LogicalNot, 1, Any) X(Add, 2, Any) X(Subtract, 2, Any) X(Multiply, 2, Any) \
  X(Divide, 2, Float) X(FloorDivide, 2, Any) X(Modulo, 2, Any) X(Power, 2, Any) X(Maximum, 2, Any) \
  X(Minimum, 2, Any) X(Atan2, 2, Float) X(Equal, 2, Any) X(NotEqual, 2, Any) X(Less, 2, Any) \
  X(LessEqual, 2, Any) X(Greater, 2, Any) X(GreaterEqual, 2, Any) X(LogicalAnd, 2, Any) X(LogicalOr, 2, Any) \
  X(LogicalXor, 2, Any) X(Select, 3, Any) X(Clamp, 3, Any)
