// CPU reductions.
#pragma once
#include <vector>

#include "tensorstitch/ndarray.h"

namespace ts::cpu {

enum class Reduce { Sum, Mean, Max, Min, Prod };

// Reduces x over `axes` (sorted, unique) into out (any shape with the kept
// elements in order). Floats accumulate in double, integers in int64 with
// wrap-around; max/min propagate NaN; empty max/min give -inf/+inf (the
// lowest/highest integer), an empty mean gives NaN.
void reduce(const NDArray& x, const std::vector<int>& axes, Reduce kind, NDArray& out);

// Index of the first max (or min) along `axis` of x; out is int64. NaN wins,
// as in NumPy.
void arg_reduce(const NDArray& x, int axis, bool is_max, NDArray& out);

// Views x as [outer, n, inner] around `axis`.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisView axis_view(const Dims& shape, int axis);

}  // namespace ts::cpu
