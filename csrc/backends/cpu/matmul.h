// CPU matrix multiplication: OpenBLAS for floats, a plain loop for integers.
#pragma once
#include "tensorstitch/ndarray.h"

namespace ts::cpu {

// out (batch..., M, N) = op(a) @ op(b) with a (abatch..., M|K, K|M) and
// b (bbatch..., K|N, N|K) already 2-D or more, batch dims broadcast; a, b and
// out share one dtype.
void matmul(const NDArray& a, const NDArray& b, bool transpose_a, bool transpose_b, NDArray& out);

}  // namespace ts::cpu
