#include "tensorstitch/dtype.h"

#include "tensorstitch/error.h"

namespace ts {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::Bool: case DType::Int8: case DType::UInt8: return 1;
    case DType::Float16: case DType::BFloat16: return 2;
    case DType::Int32: case DType::Float32: return 4;
    case DType::Int64: case DType::Float64: return 8;
  }
  return 0;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::Int8: return "int8";
    case DType::UInt8: return "uint8";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float16: return "float16";
    case DType::BFloat16: return "bfloat16";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}

DType dtype_from_name(const std::string& name) {
  for (int i = 0; i < kNumDTypes; ++i)
    if (name == dtype_name(DType(i))) return DType(i);
  throw DTypeError("unsupported dtype '" + name +
                   "'; expected one of bool, int8, uint8, int32, int64, float16, bfloat16, float32, float64");
}

bool is_floating(DType t) { return t >= DType::Float16; }
bool is_integer(DType t) { return t >= DType::Int8 && t <= DType::Int64; }
bool is_signed(DType t) { return t == DType::Int8 || t == DType::Int32 || t == DType::Int64 || is_floating(t); }

DType promote_types(DType a, DType b) {
  if (a == b) return a;
  if (a > b) std::swap(a, b);  // now a < b in enum order
  if (a == DType::Bool) return b;
  if (is_floating(b) && !is_floating(a)) return b;
  if (a == DType::Float16 && b == DType::BFloat16) return DType::Float32;
  if (a == DType::Int8 && b == DType::UInt8) return DType::Int32;
  return b;  // the wider of two integers or two floats
}

}  // namespace ts
