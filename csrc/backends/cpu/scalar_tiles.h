// The CPU's form of every scalar function in ops/scalar_math.h: a loop over a
// tile of registers, for each register type the function is defined for,
// and the rounding of a register tile to a narrower dtype.
#pragma once
#include <cstdint>

#include "tensorstitch/dtype.h"

namespace ts::cpu {

template <class C>
using TileFn = void (*)(C* dst, const C* a, const C* b, const C* c, int64_t n);
struct TileFns {
  TileFn<float> f32 = nullptr;
  TileFn<double> f64 = nullptr;
  TileFn<int64_t> i64 = nullptr;  // functions defined on integers
  int arity = 0;
};
// nullptr fields when `scalar` is not in TS_SCALAR_FUNCTIONS.
TileFns scalar_tile(const char* scalar);

template <class C>
using RoundFn = void (*)(C* v, int64_t n);
struct RoundFns {
  RoundFn<float> f32 = nullptr;
  RoundFn<double> f64 = nullptr;
  RoundFn<int64_t> i64 = nullptr;
};
// Replaces each register value by what storing it as `dt` and loading it back gives.
RoundFns round_tile(DType dt);

}  // namespace ts::cpu
