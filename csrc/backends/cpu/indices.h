// Reading and checking integer index arrays on the CPU.
#pragma once
#include <string>
#include <vector>

#include "ops/op_def.h"

namespace ts::cpu {

// The indices as int64, negative ones wrapped once by `n` (NumPy's take);
// throws ShapeError naming the op when one is still outside [0, n).
std::vector<int64_t> checked_indices(const detail::Node& node, const NDArray& idx, int64_t n, const std::string& what);

}  // namespace ts::cpu
