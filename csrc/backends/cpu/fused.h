// Fused regions on the CPU: a small interpreter over register tiles that stay
// in L1. Each input is read once and the output written once; the ops in
// between run as vectorized loops over one tile at a time.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/reduce.h"
#include "ops/op_def.h"
#include "passes/program.h"

namespace ts::cpu {

struct FusedKernel {
  struct Instr {
    TileFns fns;
    Combiner reduce = Combiner::None;      // Row regions: dst = a reduced over the row, filled
    bool per_row = false;                  // Row regions: one value per row, computed once and filled
    int dst = -1, a = -1, b = -1, c = -1;  // registers
  };
  Region::Kind kind = Region::Kind::Elementwise;
  DType compute = DType::Float32;
  Dims shape;                     // the iteration space (a reduction's input shape)
  std::vector<int> inputs;        // tensor ids the kernel reads, in order
  std::vector<DType> input_dtypes;
  std::vector<int> input_regs;
  std::vector<bool> input_contiguous, input_scalar;
  std::vector<bool> input_invariant;  // Row regions: the same in every row, loaded once per thread
  Broadcast bc;                   // collapsed iteration space and input strides
  std::vector<Instr> code;
  int num_regs = 0;
  int value_reg = -1;             // the register stored (or reduced)
  DType out_dtype = DType::Float32;
  Reduce reduce = Reduce::Sum;    // Reduce regions
  int64_t row = 1;                // elements per reduced output (Row regions: per row)
  bool row_result = false;        // Row regions: one value per row (the root reduces)
  const detail::Node* matmul = nullptr;  // Matmul regions: inputs 0 and 1 are its operands,
  int matmul_input = -1;                 // and this input is its result
  std::vector<std::string> ops;   // member op types, for explain()
};

// Lowers a region of a specialized program to a kernel.
std::shared_ptr<const FusedKernel> compile_region(const Program& p, const Region& r);
// ins in the order of k.inputs (the matmul result's entry is ignored); out
// is allocated with the region's output type.
void run_fused(const FusedKernel& k, const std::vector<NDArray>& ins, NDArray& out);

}  // namespace ts::cpu
