// Helpers shared by shape/dtype rules.
#pragma once
#include <string>
#include <vector>

#include "ops/op_def.h"

namespace ts {

std::string dims_str(const Dims& dims);
TensorType unranked(DType dt);
TensorType ranked(Dims dims, DType dt);

// NumPy broadcasting of static shapes: -1 stays unknown unless the other
// side fixes it; unranked in, unranked out. Throws ShapeError.
TensorType broadcast(const InferCtx& ctx, const std::vector<TensorType>& types, DType out);
// Concrete broadcast used by kernels and folding.
Dims broadcast_dims(const std::vector<Dims>& shapes);

// Axis in [-rank, rank) to [0, rank); throws ShapeError naming the op.
int normalize_axis(const InferCtx& ctx, int64_t axis, int rank, const char* what = "axis");
// Sorted, de-duplicated check of a list of axes; throws on repeats.
std::vector<int> normalize_axes(const InferCtx& ctx, const std::vector<int64_t>& axes, int rank);
// Raises DTypeError unless `ok`.
void expect_dtype(const InferCtx& ctx, bool ok, const TensorType& t, const char* expected);
// Rank limit of API.md.
constexpr int kMaxRank = 16;
void check_rank(const InferCtx& ctx, const TensorType& t);

}  // namespace ts
