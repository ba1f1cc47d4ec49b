// Ops built from other ops, in C++ so that C++ users get them too (the
// Python front calls these): optimizer updates, mean and variance, stack,
// NumPy basic indexing, and the dtype rule for Python-style scalars.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tensorstitch/graph.h"

namespace ts {

// The kind of a plain scalar written next to a tensor (a Python bool, int or float).
enum class ScalarKind { Bool, Int, Float };
// The dtype such a scalar takes next to a tensor of dtype `like` (weak
// typing, as in JAX: x * 2.0 keeps x's float dtype, i + 1 keeps i's integer
// dtype); without `like`: bool, int32 or float32.
DType weak_scalar_dtype(ScalarKind kind, std::optional<DType> like = std::nullopt);
// A rank-0 constant.
Tensor scalar_constant(Graph& g, double value, DType dtype);

// value - learning_rate * gradient.
Tensor sgd(Graph& g, const Tensor& learning_rate, const Tensor& value, const Tensor& gradient,
           const std::string& name = "");
// One Adam update (Kingma & Ba) at 1-based `step`: {new value, new m, new v}.
std::array<Tensor, 3> adam(Graph& g, const Tensor& learning_rate, const Tensor& beta1, const Tensor& beta2,
                           const Tensor& epsilon, const Tensor& value, const Tensor& gradient, const Tensor& m,
                           const Tensor& v, const Tensor& step, const std::string& name = "");
// (mean, population variance) over `axes` (nullopt: all).
std::pair<Tensor, Tensor> mean_variance(Graph& g, const Tensor& x, const std::optional<std::vector<int64_t>>& axes,
                                        bool keepdims = false, const std::string& name = "");
// Tensors of one shape joined along a new axis.
Tensor stack(Graph& g, const std::vector<Tensor>& tensors, int64_t axis = 0, const std::string& name = "");

// One entry of a NumPy basic index: an int, a slice (absent bounds: the
// whole extent), a new axis (None) or an ellipsis.
struct IndexEntry {
  enum class Kind { Int, Slice, NewAxis, Ellipsis };
  Kind kind = Kind::Slice;
  std::optional<int64_t> start, stop;  // Int: start is the index
  int64_t step = 1;
};
// x[key]: a slice, then squeezes and new axes. After an ellipsis on a tensor
// of unknown rank, the entries count from the last dimension. Raises
// ShapeError for an int out of range or too many indices, IndexError-like
// GraphError for two ellipses.
Tensor basic_index(Graph& g, const Tensor& x, const std::vector<IndexEntry>& key);

}  // namespace ts
