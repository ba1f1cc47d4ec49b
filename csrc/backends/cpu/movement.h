// CPU data movement: strided copies and per-dimension index maps.
#pragma once
#include <vector>

#include "ops/movement_maps.h"
#include "tensorstitch/ndarray.h"

namespace ts::cpu {

// out[i] = in[offset + sum_d i_d * strides[d]] for a contiguous out (strides
// in elements; zero or negative allowed).
void copy_strided(const NDArray& in, int64_t offset, const Dims& strides, NDArray& out);

// For each output dimension d, maps[d][i] is the input index along d, or -1
// for "outside the input" (filled with `fill`). in and out have equal rank.
using ts::IndexMaps;
void gather_maps(const NDArray& in, const IndexMaps& maps, double fill, NDArray& out);
// The adjoint: out (shaped like the input) = sum of dy over the outputs that
// read each input element.
void scatter_add_maps(const NDArray& dy, const IndexMaps& maps, NDArray& out);

// Writes `value` converted to out's dtype into every element.
void fill(NDArray& out, double value);

}  // namespace ts::cpu
