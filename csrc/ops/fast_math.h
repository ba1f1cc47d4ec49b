// Branch-free float32 exp, log, erf and tanh that compilers vectorize (the
// C library's are scalar calls), each within a few ulp (at most 6) of the
// correctly rounded result (tests/test_fast_math.py measures it). float64 keeps the C
// library's. Range reduction plus short polynomials; see each function.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace ts::math {

inline float as_float(int32_t i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int32_t as_int(float f) { int32_t i; std::memcpy(&i, &f, 4); return i; }

// exp(x) = 2^n * exp(r), n = rint(x / ln 2), r = x - n ln 2 (ln 2 split in
// two so r is exact), exp(r) by its Taylor polynomial of degree 7 (|r| <=
// 0.347: truncation < 1e-8 relative). 2^n is applied in two halves so
// results in the subnormal range come out right.
inline float exp_f32(float x) {
  // NaN is handled at the end; here it becomes 0 so the integer part below is defined.
  const float lo = x < -104.0f ? -104.0f : (x != x ? 0.0f : x), xc = lo > 89.0f ? 89.0f : lo;
  const float n = std::nearbyint(xc * 1.44269504088896341f);
  float r = std::fma(n, -0.693145751953125f, xc);
  r = std::fma(n, -1.428606765330187e-06f, r);
  float p = 1.0f / 5040.0f;
  p = std::fma(p, r, 1.0f / 720.0f);
  p = std::fma(p, r, 1.0f / 120.0f);
  p = std::fma(p, r, 1.0f / 24.0f);
  p = std::fma(p, r, 1.0f / 6.0f);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  const int32_t ni = int32_t(n), n1 = ni / 2, n2 = ni - n1;
  float y = p * as_float(int32_t(uint32_t(n1 + 127) << 23)) * as_float(int32_t(uint32_t(n2 + 127) << 23));
  y = x > 88.7228391f ? std::numeric_limits<float>::infinity() : y;
  y = x < -103.972084f ? 0.0f : y;
  return x != x ? x : y;
}

// log(x) = e ln 2 + log(m), m in [sqrt(1/2), sqrt(2)), log(m) = 2 atanh(s)
// with s = (m - 1) / (m + 1), |s| <= 0.172, by its series to s^11.
inline float log_f32(float x) {
  const bool sub = x < std::numeric_limits<float>::min();
  const float xs = sub ? x * 8388608.0f : x;  // lift subnormals by 2^23
  const int32_t bits = as_int(xs);
  int32_t e = ((bits >> 23) & 0xff) - 127;
  float m = as_float((bits & 0x7fffff) | 0x3f800000);
  const bool big = m > 1.41421356f;
  m = big ? m * 0.5f : m;
  e = big ? e + 1 : e;
  const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
  float p = 1.0f / 11.0f;
  p = std::fma(p, s2, 1.0f / 9.0f);
  p = std::fma(p, s2, 1.0f / 7.0f);
  p = std::fma(p, s2, 1.0f / 5.0f);
  p = std::fma(p, s2, 1.0f / 3.0f);
  p = std::fma(p, s2, 1.0f);
  const float fe = float(e) - (sub ? 23.0f : 0.0f);
  float y = std::fma(fe, 0.693145751953125f, std::fma(fe, 1.428606765330187e-06f, 2.0f * s * p));
  y = x == 0.0f ? -std::numeric_limits<float>::infinity() : y;
  y = x < 0.0f ? std::numeric_limits<float>::quiet_NaN() : y;
  y = x == std::numeric_limits<float>::infinity() ? x : y;
  return x != x ? x : y;
}

// erf(x) = x P(x^2) / Q(x^2) on |x| <= 3.93 and +-1 beyond (where float32
// erf rounds to +-1). P (degree 5) and Q (degree 5) were fitted for this
// project by iteratively reweighted least squares on the relative error
// (Loeb's method); within 6 ulp, the worst near |x| = 3.7 where erf is 1 -
// 3e-7. One division and eleven FMAs: GeLU is memory-bound with it.
inline float erf_f32(float x) {
  const float c = x < -3.93f ? -3.93f : (x > 3.93f ? 3.93f : x), t = c * c;
  float p = 2.0419760035916834e-06f;
  p = std::fma(p, t, 0.0002848077382292813f);
  p = std::fma(p, t, 0.0037795745074645343f);
  p = std::fma(p, t, 0.05279017977229774f);
  p = std::fma(p, t, 0.19078303262877166f);
  p = std::fma(p, t, 1.1283791453904788f);
  float q = 3.80040833794712e-05f;
  q = std::fma(q, t, 0.0011652041137487973f);
  q = std::fma(q, t, 0.014997368363528565f);
  q = std::fma(q, t, 0.11425719157612603f);
  q = std::fma(q, t, 0.5024097802863647f);
  q = std::fma(q, t, 1.0f);
  const float y = c * p / q;
  return x > 3.93f ? 1.0f : (x < -3.93f ? -1.0f : y);
}

// tanh: below |x| = 0.4 its odd Taylor polynomial (to x^13); above,
// 1 - 2 / (exp(2|x|) + 1), with the sign put back.
inline float tanh_f32(float x) {
  const float a = std::fabs(x), x2 = x * x;
  float p = 21844.0f / 6081075.0f;
  p = std::fma(p, x2, -1382.0f / 155925.0f);
  p = std::fma(p, x2, 62.0f / 2835.0f);
  p = std::fma(p, x2, -17.0f / 315.0f);
  p = std::fma(p, x2, 2.0f / 15.0f);
  p = std::fma(p, x2, -1.0f / 3.0f);
  // copysign keeps tanh(-0.0) = -0.0 (the FMA alone rounds it to +0.0).
  const float small = std::copysign(std::fma(x * x2, p, x), x);
  const float large = std::copysign(1.0f - 2.0f / (exp_f32(2.0f * a) + 1.0f), x);
  return a < 0.4f ? small : (x != x ? x : large);
}

// The functors call these: float32 gets the vectorizable versions.
template <class C> inline C fexp(C x) { if constexpr (std::is_same_v<C, float>) return exp_f32(x); else return std::exp(x); }
template <class C> inline C flog(C x) { if constexpr (std::is_same_v<C, float>) return log_f32(x); else return std::log(x); }
template <class C> inline C ferf(C x) { if constexpr (std::is_same_v<C, float>) return erf_f32(x); else return std::erf(x); }
template <class C> inline C ftanh(C x) { if constexpr (std::is_same_v<C, float>) return tanh_f32(x); else return std::tanh(x); }

}  // namespace ts::math
