// Registration helper shared by the elementwise op families.
#pragma once
#include "ops/infer_util.h"

namespace ts {

// `scalar`: its functor in ops/scalar_math.h.
inline OpDef elementwise_def(const char* name, int inputs, InferFn infer, GradFn grad, const char* scalar) {
  OpDef d = make_op(name, OpClass::Elementwise, inputs, infer, grad);
  d.scalar = scalar;
  return d;
}

}  // namespace ts
