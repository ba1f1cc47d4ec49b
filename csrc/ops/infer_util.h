// Helpers shared by shape/dtype rules.
#pragma once
#include <string>
#include <vector>

#include "ops/op_def.h"

namespace ts {

std::string dims_str(const Dims& dims);
TensorType unranked(DType dt);
TensorType ranked(Dims dims, DType dt);
// Same rank, and equal sizes wherever both are known (-1: known at run time).
bool dims_match(const Dims& a, const Dims& b);

// NumPy broadcasting of static shapes: -1 stays unknown unless the other
// side fixes it; unranked in, unranked out. Throws ShapeError.
TensorType broadcast(const InferCtx& ctx, const std::vector<TensorType>& types, DType out);
// Concrete broadcast used by kernels and folding.
Dims broadcast_dims(const std::vector<Dims>& shapes);

// Axis in [-rank, rank) to [0, rank); throws ShapeError naming the op.
int normalize_axis(const InferCtx& ctx, int64_t axis, int rank, const char* what = "axis");
// Sorted, de-duplicated check of a list of axes; throws on repeats.
std::vector<int> normalize_axes(const InferCtx& ctx, const std::vector<int64_t>& axes, int rank);
// The axes a reduction reduces: its "axes" attribute, or all when absent.
std::vector<int> reduced_axes(const InferCtx& ctx, int rank);
// transpose's "perm" attribute normalized to [0, rank) (absent: reversed axes);
// throws ShapeError unless it is a permutation.
std::vector<int64_t> perm_of(const InferCtx& ctx, int rank);
// Raises DTypeError unless `ok`.
void expect_dtype(const InferCtx& ctx, bool ok, const TensorType& t, const char* expected);
// Rank limit of API.md.
constexpr int kMaxRank = 16;
// The largest tensor, in bytes, a graph may describe: far beyond any memory,
// and small enough that sums of a few such sizes cannot overflow int64.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 60;
// Validates an op's result: rank at most kMaxRank, and a size in bytes (of
// the dims known so far) at most kMaxTensorBytes. Throws ShapeError.
void check_result(const InferCtx& ctx, const TensorType& t);
// Sizes computed by shape rules, or a ShapeError naming the op on int64 overflow.
int64_t checked_mul(const InferCtx& ctx, int64_t a, int64_t b);
int64_t checked_add(const InferCtx& ctx, int64_t a, int64_t b);

}  // namespace ts
