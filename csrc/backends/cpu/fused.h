// Fused kernels on the CPU: an interpreter of KernelDescs over register tiles
// that stay in L1. Each input is read once and the output written once; the
// steps in between run as vectorized loops over one tile at a time.
#pragma once
#include <memory>
#include <vector>

#include "backends/cpu/broadcast.h"
#include "backends/cpu/reduce.h"
#include "backends/cpu/scalar_tiles.h"
#include "runtime/backend.h"

namespace ts::cpu {

struct FusedKernel : CompiledKernel {
  struct Instr {
    TileFns fns;
    RoundFns round;                        // set when the step rounds its result
    Combiner reduce = Combiner::None;      // Row kernels: dst = a reduced over the row, filled
    bool per_row = false;                  // Row kernels: one value per row, computed once and filled
    bool a_row = false, b_row = false, c_row = false;  // Row kernels: that operand holds a per-row value
    int dst = -1, a = -1, b = -1, c = -1;  // registers
  };
  const KernelDesc& d() const { return *desc; }
  std::vector<DType> input_dtypes;
  std::vector<bool> input_contiguous, input_scalar;
  Broadcast bc;      // collapsed iteration space and input strides
  Broadcast bc_out;  // Reduce kernels: the output space, for the epilogue's operands
  std::vector<Instr> code;
  // Row kernels: [begin, end) of the steps of each segment, code[end] the
  // reduction that closes it (end == code.size() for the last); per input,
  // the segment that loads it (-1: invariant or never read); whether the
  // last segment stores the result tile by tile.
  std::vector<std::pair<size_t, size_t>> segments;
  std::vector<int> input_segment;
  bool store_tiles = false;
  Reduce reduce = Reduce::Sum;  // Reduce kernels
};

// Translates a fused description; throws CompileError for a scalar function
// the CPU lacks for the register type.
std::shared_ptr<const FusedKernel> compile_fused(std::shared_ptr<const KernelDesc> desc);
// ins in the order of the description's inputs (the contraction's product
// entry is ignored); outs are allocated with the kernel's output types;
// workspace holds the kernel's workspace_bytes.
void run_fused(const FusedKernel& k, const std::vector<NDArray>& ins, std::vector<NDArray>& outs, void* workspace);

}  // namespace ts::cpu
