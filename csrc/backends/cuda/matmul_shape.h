// The shape of a matmul step as both CUDA paths (cuBLASLt and our own
// kernel) see it: a batch of (m x k) @ (k x n) products, each operand
// row-major and maybe transposed, batch dimensions broadcast.
#pragma once
#include "ir/kernel_desc.h"

namespace ts::cuda {

struct MatmulShape {
  int64_t m = 1, n = 1, k = 1;
  bool ta = false, tb = false;  // a is stored (k x m), b is stored (n x k)
  Dims batch;                   // the output's batch dimensions
  Dims a_stride, b_stride;      // per batch dimension, in elements (0: broadcast)
  int64_t batches() const { return num_elements(batch); }
  // Offsets of batch `i` in a and b.
  int64_t a_offset(int64_t i) const;
  int64_t b_offset(int64_t i) const;
};

// From the step's first two inputs and the op's transpose attributes.
MatmulShape matmul_shape(const KernelDesc& k);

}  // namespace ts::cuda
