// CPU matrix multiplication: OpenBLAS for floats, a plain loop for integers.
#pragma once
#include <functional>

#include "ir/graph_data.h"
#include "tensorstitch/ndarray.h"

namespace ts::cpu {

// Called with [begin, end) of the output's elements once they are final, so
// an epilogue can run on them while they are in cache.
using PanelDone = std::function<void(int64_t, int64_t)>;

// out (batch..., M, N) = op(a) @ op(b) with a (abatch..., M|K, K|M) and
// b (bbatch..., K|N, N|K) of rank >= 2, batch dims broadcast; a, b and out
// share one dtype.
void matmul(const NDArray& a, const NDArray& b, bool transpose_a, bool transpose_b, NDArray& out,
            const PanelDone& done = {});

// The matmul op on concrete arrays (its attributes, NumPy's rules for 1-D
// operands, operands converted to the output's dtype).
void matmul_op(const detail::Node& node, const NDArray& a, const NDArray& b, NDArray& out,
               const PanelDone& done = {});

}  // namespace ts::cpu
