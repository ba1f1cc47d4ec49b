#include "backends/cpu/scalar_tiles.h"

#include <cstring>
#include <string>

#include "ir/scalar_types.h"
#include "ops/scalar_shim_host.h"

namespace ts::cpu {
namespace {

// Tight loops the compiler vectorizes; results convert back to the register
// type (predicates give 0 or 1).
template <class F, class C, int kArity>
void tile_apply(C* d, const C* a, const C* b, const C* c, int64_t n) {
  if constexpr (kArity == 1) {
    for (int64_t i = 0; i < n; ++i) d[i] = C(F::f(a[i]));
  } else if constexpr (kArity == 2) {
    for (int64_t i = 0; i < n; ++i) d[i] = C(F::f(a[i], b[i]));
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = C(F::f(a[i], b[i], c[i]));
  }
}

enum class Domain { Float, Any };

template <class F, int kArity, Domain D>
TileFns tiles() {
  TileFns t;
  t.f32 = tile_apply<F, float, kArity>;
  t.f64 = tile_apply<F, double, kArity>;
  if constexpr (D == Domain::Any) t.i64 = tile_apply<F, int64_t, kArity>;
  t.arity = kArity;
  return t;
}

template <class T, class C>
void round_apply(C* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) v[i] = C(compute_t<T>(convert<T>(v[i])));
}

}  // namespace

TileFns scalar_tile(const char* scalar) {
#define TS_TILE_CASE(Name, arity, domain) \
  if (std::strcmp(scalar, #Name) == 0) return tiles<math::Name, arity, Domain::domain>();
  TS_SCALAR_FUNCTIONS(TS_TILE_CASE)
#undef TS_TILE_CASE
  return {};
}

RoundFns round_tile(DType dt) {
  RoundFns r;
  dispatch_all(dt, [&](auto tag) {
    using T = decltype(tag);
    r.f32 = round_apply<T, float>;
    r.f64 = round_apply<T, double>;
    r.i64 = round_apply<T, int64_t>;
  });
  return r;
}

}  // namespace ts::cpu
