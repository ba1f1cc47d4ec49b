// Element types and NumPy-style type promotion.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ts {

enum class DType : uint8_t { Bool, Int8, UInt8, Int32, Int64, Float16, BFloat16, Float32, Float64 };

constexpr int kNumDTypes = 9;

size_t dtype_size(DType t);
const char* dtype_name(DType t);
// Parses the names dtype_name() returns ("float32", "bool", ...); throws DTypeError.
DType dtype_from_name(const std::string& name);
bool is_floating(DType t);
bool is_integer(DType t);  // signed or unsigned, not bool
bool is_signed(DType t);

// The type two operands are converted to for arithmetic: bool < integers <
// floats; within a kind the wider wins; int8 with uint8 gives int32 (we have
// no int16); float16 with bfloat16 gives float32; an integer with a float
// gives the float (JAX's lattice, so float16 math stays float16).
DType promote_types(DType a, DType b);

}  // namespace ts
