// Running one node's CPU kernel on concrete arrays (used by the executor and
// by constant folding).
#pragma once
#include <vector>

#include "ir/graph_data.h"

namespace ts {

// `outs` may hold preallocated outputs (from the arena); missing ones are allocated.
std::vector<NDArray> call_kernel(const detail::Node& node, const std::vector<NDArray>& ins,
                                 const std::vector<TensorType>& out_types, std::vector<NDArray> outs = {});

}  // namespace ts
