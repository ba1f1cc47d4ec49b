// C++ types behind each DType, float16/bfloat16 storage types, and dispatch
// from a runtime DType to a template instantiation.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "tensorstitch/dtype.h"
#include "tensorstitch/error.h"

namespace ts {

inline float bits_to_float(uint32_t b) { float f; std::memcpy(&f, &b, 4); return f; }
inline uint32_t float_to_bits(float f) { uint32_t b; std::memcpy(&b, &f, 4); return b; }

// IEEE binary16 storage; arithmetic happens in float.
struct half {
  uint16_t bits = 0;
  half() = default;
  half(float f) : bits(from_float(f)) {}
  operator float() const { return to_float(bits); }

  static float to_float(uint16_t h) {
    uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp == 0x1f) return bits_to_float(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
      if (man == 0) return bits_to_float(sign);
      float v = std::ldexp(float(man), -24);  // subnormal
      return sign ? -v : v;
    }
    return bits_to_float(sign | ((exp + 112) << 23) | (man << 13));
  }
  static uint16_t from_float(float f) {
    uint32_t x = float_to_bits(f), sign = (x >> 16) & 0x8000;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return uint16_t(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // rounds to inf
    if (ax < 0x38800000u) {                                   // subnormal or zero
      float v = bits_to_float(ax) * 16777216.0f;              // scale by 2^24
      return uint16_t(sign | uint32_t(std::nearbyint(v)));
    }
    uint32_t rounded = ax + 0xfff + ((ax >> 13) & 1);  // round to nearest even
    return uint16_t(sign | ((rounded - 0x38000000u) >> 13));
  }
};

// bfloat16 storage: the top half of a float32, rounded to nearest even.
struct bfloat16 {
  uint16_t bits = 0;
  bfloat16() = default;
  bfloat16(float f) {
    uint32_t x = float_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) bits = uint16_t((x >> 16) | 0x40);
    else bits = uint16_t((x + 0x7fff + ((x >> 16) & 1)) >> 16);
  }
  operator float() const { return bits_to_float(uint32_t(bits) << 16); }
};

// The type arithmetic on T is done in.
template <class T> struct compute_type { using type = T; };
template <> struct compute_type<half> { using type = float; };
template <> struct compute_type<bfloat16> { using type = float; };
template <class T> using compute_t = typename compute_type<T>::type;

template <class T> constexpr bool is_float_v =
    std::is_floating_point_v<T> || std::is_same_v<T, half> || std::is_same_v<T, bfloat16>;

// Converts between element types without undefined behaviour: NaN -> 0 and
// saturation for float -> integer; nonzero -> true for bool.
template <class To, class From>
inline To convert(From v) {
  if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return static_cast<compute_t<From>>(v) != compute_t<From>(0);
  } else if constexpr (is_float_v<From> && std::is_integral_v<To>) {
    double d = static_cast<double>(static_cast<compute_t<From>>(v));
    if (std::isnan(d)) return To(0);
    if (d <= double(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    if (d >= double(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(d);
  } else if constexpr (std::is_same_v<To, half> || std::is_same_v<To, bfloat16>) {
    return To(static_cast<float>(static_cast<compute_t<From>>(v)));
  } else {
    return static_cast<To>(static_cast<compute_t<From>>(v));
  }
}

template <DType D> struct ctype_of;
template <> struct ctype_of<DType::Bool> { using type = bool; };
template <> struct ctype_of<DType::Int8> { using type = int8_t; };
template <> struct ctype_of<DType::UInt8> { using type = uint8_t; };
template <> struct ctype_of<DType::Int32> { using type = int32_t; };
template <> struct ctype_of<DType::Int64> { using type = int64_t; };
template <> struct ctype_of<DType::Float16> { using type = half; };
template <> struct ctype_of<DType::BFloat16> { using type = bfloat16; };
template <> struct ctype_of<DType::Float32> { using type = float; };
template <> struct ctype_of<DType::Float64> { using type = double; };

// Calls f(T{}) with T the C++ type of `dt`.
template <class F>
inline void dispatch_all(DType dt, F&& f) {
  switch (dt) {
    case DType::Bool: f(bool{}); break;
    case DType::Int8: f(int8_t{}); break;
    case DType::UInt8: f(uint8_t{}); break;
    case DType::Int32: f(int32_t{}); break;
    case DType::Int64: f(int64_t{}); break;
    case DType::Float16: f(half{}); break;
    case DType::BFloat16: f(bfloat16{}); break;
    case DType::Float32: f(float{}); break;
    case DType::Float64: f(double{}); break;
  }
}

}  // namespace ts
