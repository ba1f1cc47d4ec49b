// The index maps of the gather-like movement ops (slice, pad, tile, flip):
// for each output dimension d, maps[d][i] is the input index along d that
// output index i reads, or -1 for "outside the input" (pad's constant).
// They describe the op, not a kernel: every backend's kernels and the
// gradient (movement_grad) use the same maps.
#pragma once
#include <string>
#include <vector>

#include "ops/op_def.h"

namespace ts {

using IndexMaps = std::vector<std::vector<int64_t>>;
// `type` is the forward op's name; `in` and `out` its concrete shapes.
IndexMaps movement_maps(const InferCtx& c, const std::string& type, const Dims& in, const Dims& out);

}  // namespace ts
