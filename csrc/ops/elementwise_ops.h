// Registration helpers shared by the elementwise op families.
#pragma once
#include "backends/cpu/elementwise.h"
#include "ops/infer_util.h"

namespace ts {

inline OpDef elementwise_def(const char* name, int inputs, InferFn infer, CpuKernel cpu, GradFn grad) {
  return make_op(name, OpClass::Elementwise, inputs, infer, cpu, grad);
}

}  // namespace ts
