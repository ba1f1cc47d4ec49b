// The host side of the shim that ops/scalar_math.h is written against:
// function qualifiers and the intrinsics, from the C++ standard library.
// Generated GPU source uses shaders/cuda/shim.cuh instead.
#pragma once
#include <cmath>
#include <cstring>
#include <limits>

#define TS_FN inline

namespace ts::sm {
using std::acos; using std::acosh; using std::asin; using std::asinh; using std::atan; using std::atan2;
using std::atanh; using std::ceil; using std::copysign; using std::cos; using std::cosh; using std::erf;
using std::exp; using std::exp2; using std::expm1; using std::fabs; using std::floor; using std::fma;
using std::fmod; using std::isfinite; using std::isinf; using std::log; using std::log1p; using std::log2;
using std::pow; using std::sin; using std::sinh; using std::sqrt; using std::tan; using std::tanh;
// Round half to even in the default rounding mode (std::rint without errno).
inline float rint(float x) { return std::nearbyint(x); }
inline double rint(double x) { return std::nearbyint(x); }
inline float int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline float inf_f32() { return std::numeric_limits<float>::infinity(); }
inline float nan_f32() { return std::numeric_limits<float>::quiet_NaN(); }
}  // namespace ts::sm

#include "ops/scalar_math.h"
