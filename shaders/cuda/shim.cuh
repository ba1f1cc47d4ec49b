// The CUDA side of the shim that csrc/ops/scalar_math.h is written against:
// NVRTC compiles generated kernels with no standard headers, so the
// intrinsics come from CUDA's built-in math functions.
#define TS_FN __device__ __forceinline__

namespace ts {
namespace sm {
#define TS_SM1(name, f32, f64) \
  __device__ __forceinline__ float name(float x) { return ::f32(x); } \
  __device__ __forceinline__ double name(double x) { return ::f64(x); }
TS_SM1(acos, acosf, acos) TS_SM1(acosh, acoshf, acosh) TS_SM1(asin, asinf, asin) TS_SM1(asinh, asinhf, asinh)
TS_SM1(atan, atanf, atan) TS_SM1(atanh, atanhf, atanh) TS_SM1(ceil, ceilf, ceil) TS_SM1(cos, cosf, cos)
TS_SM1(cosh, coshf, cosh) TS_SM1(erf, erff, erf) TS_SM1(exp, expf, exp) TS_SM1(exp2, exp2f, exp2)
TS_SM1(expm1, expm1f, expm1) TS_SM1(fabs, fabsf, fabs) TS_SM1(floor, floorf, floor) TS_SM1(log, logf, log)
TS_SM1(log1p, log1pf, log1p) TS_SM1(log2, log2f, log2) TS_SM1(rint, rintf, rint) TS_SM1(sin, sinf, sin)
TS_SM1(sinh, sinhf, sinh) TS_SM1(sqrt, sqrtf, sqrt) TS_SM1(tan, tanf, tan) TS_SM1(tanh, tanhf, tanh)
#undef TS_SM1
#define TS_SM2(name, f32, f64) \
  __device__ __forceinline__ float name(float x, float y) { return ::f32(x, y); } \
  __device__ __forceinline__ double name(double x, double y) { return ::f64(x, y); }
TS_SM2(atan2, atan2f, atan2) TS_SM2(copysign, copysignf, copysign) TS_SM2(fmod, fmodf, fmod) TS_SM2(pow, powf, pow)
#undef TS_SM2
__device__ __forceinline__ float fma(float a, float b, float c) { return ::fmaf(a, b, c); }
__device__ __forceinline__ double fma(double a, double b, double c) { return ::fma(a, b, c); }
__device__ __forceinline__ bool isinf(float x) { return ::isinf(x); }
__device__ __forceinline__ bool isinf(double x) { return ::isinf(x); }
__device__ __forceinline__ bool isfinite(float x) { return ::isfinite(x); }
__device__ __forceinline__ bool isfinite(double x) { return ::isfinite(x); }
__device__ __forceinline__ float int_as_float(int i) { return __int_as_float(i); }
__device__ __forceinline__ int float_as_int(float f) { return __float_as_int(f); }
__device__ __forceinline__ float inf_f32() { return __int_as_float(0x7f800000); }
__device__ __forceinline__ float nan_f32() { return __int_as_float(0x7fc00000); }
}  // namespace sm
}  // namespace ts

// Storage conversions for float16 and bfloat16 (no cuda_fp16.h under NVRTC
// without the toolkit's headers): round to nearest even, as the host does.
namespace ts {
__device__ __forceinline__ float f16_to_f32(unsigned short h) {
  const unsigned int sign = (unsigned int)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0x1f) return __int_as_float(int(sign | 0x7f800000u | (m << 13)));
  if (e == 0) {
    const float v = float(m) * 5.9604644775390625e-08f;  // 2^-24
    return sign ? -v : v;
  }
  return __int_as_float(int(sign | ((e + 112) << 23) | (m << 13)));
}
__device__ __forceinline__ unsigned short f32_to_f16(float f) {
  const unsigned int x = (unsigned int)__float_as_int(f), sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (unsigned short)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
  if (ax >= 0x477ff000u) return (unsigned short)(sign | 0x7c00);
  if (ax < 0x38800000u) return (unsigned short)(sign | (unsigned int)rintf(__int_as_float(int(ax)) * 16777216.0f));
  return (unsigned short)(sign | ((ax + 0xfff + ((ax >> 13) & 1) - 0x38000000u) >> 13));
}
__device__ __forceinline__ float bf16_to_f32(unsigned short b) { return __int_as_float(int((unsigned int)b << 16)); }
__device__ __forceinline__ unsigned short f32_to_bf16(float f) {
  const unsigned int x = (unsigned int)__float_as_int(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((x >> 16) | 0x40);
  return (unsigned short)((x + 0x7fff + ((x >> 16) & 1)) >> 16);
}
// Float to integer as the host converts: NaN to 0, saturating.
template <class I> __device__ __forceinline__ I f2i(double v, I lo, I hi) {
  return v != v ? I(0) : v <= double(lo) ? lo : v >= double(hi) ? hi : I(v);
}
}  // namespace ts
