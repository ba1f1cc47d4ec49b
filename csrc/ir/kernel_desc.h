// The backend-neutral description of one kernel, produced by the lowering
// pass (passes/lower.cpp) from a region. A backend compiles it: the CPU
// backend interprets it over register tiles, a GPU backend renders it to
// source. Everything a kernel needs is here, resolved at plan time.
#pragma once
#include <string>
#include <vector>

#include "ir/graph_data.h"

namespace ts {

// How a reduction combines values (ops declare it; kernels read it).
enum class Combiner { None, Sum, Mean, Max, Min, Prod };

struct KernelOperand {
  int tensor = -1;  // the graph tensor it reads
  TensorType type;  // concrete dtype and dims
  int reg = -1;     // the register it is loaded into; -1: not loaded (a contraction's operands)
  // Row kernels: the same values in every row (a scalar, or a vector along
  // the last axis such as layer norm's gamma), loaded once per thread.
  bool invariant = false;
  // Reduce kernels: read by the epilogue, so broadcast against the output.
  bool epilogue = false;
};

// One step of a kernel body: dst = scalar(a, b, c), or (Row kernels) dst =
// the reduction of a over the row.
struct KernelStep {
  const detail::Node* node = nullptr;  // the op, for its attributes and name
  const char* scalar = nullptr;        // its functor in ops/scalar_math.h
  int arity = 0;
  Combiner reduce{};                   // Row kernels: a row reduction instead of a scalar function
  bool per_row = false;                // Row kernels: one value per row, filled across it
  // The result is rounded to this dtype when it is narrower than the
  // register type (float16 in float32 registers, int8 in int64 ones), so a
  // fused region computes exactly what the unfused ops would store.
  bool round = false;
  DType round_to = DType::Float32;
  int dst = -1, a = -1, b = -1, c = -1;
};

struct KernelDesc {
  enum class Kind {
    Op,           // one op run by the backend's kernel for it (by name)
    Elementwise,  // body over the iteration space
    Reduce,       // body, then a reduction over trailing axes, then the epilogue
    Row,          // body one row at a time, with per-row reductions inside
    Matmul,       // a contraction, then the body as its epilogue
  };
  Kind kind = Kind::Op;
  // Op: the op. Reduce: the reduction. Matmul: the contraction.
  const detail::Node* node = nullptr;
  DType compute = DType::Float32;  // register type: Float32, Float64 or Int64
  Dims space;                      // the iteration space (a reduction's input shape)
  std::vector<KernelOperand> inputs;
  std::vector<bool> value_read;    // per input: false when only its shape is read (Op kernels)
  std::vector<KernelStep> body;    // Reduce kernels: the prologue steps, then the epilogue's
  int num_regs = 0;
  int value_reg = -1;              // the register stored (Reduce kernels: reduced)
  // Reduce kernels with an epilogue: the register the reduced values are put
  // in, and the one stored (value_reg otherwise).
  int reduced_reg = -1;
  int result_reg = -1;
  size_t epilogue_step = 0;        // Reduce kernels: body[epilogue_step:] is the epilogue
  // The root's output, then (elementwise kernels) extra outputs, stored
  // from extra_regs.
  std::vector<TensorType> outputs;
  std::vector<int> extra_regs;
  Combiner reduce{};               // Reduce kernels
  int64_t row = 1;                 // Reduce: elements per output; Row: row length
  bool row_result = false;         // Row kernels: one value per row
  int contraction_input = -1;      // Matmul kernels: the input that is the product
  bool allow_tf32 = false;         // a float32 product may use TF32 tensor cores
  std::vector<std::string> ops;    // member op types, for explain()

  bool fused() const { return kind != Kind::Op; }
};

}  // namespace ts
