// What a gradient rule sees, and the small vocabulary rules are written in.
// Rules build graph ops (MPSGraph-style): d/dx log(x) is reciprocal(x) * dy.
#pragma once
#include <string>
#include <vector>

#include "ir/graph_data.h"
#include "ops/op_def.h"
#include "tensorstitch/graph.h"

namespace ts {

struct GradCtx {
  Graph g;
  const detail::Node& node;
  std::vector<Tensor> x;   // the forward op's inputs
  std::vector<Tensor> y;   // its outputs
  std::vector<Tensor> dy;  // gradients of its outputs (undefined where none flows)

  Tensor op(const std::string& type, const std::vector<Tensor>& inputs, const Attrs& attrs = {});
  std::vector<Tensor> ops(const std::string& type, const std::vector<Tensor>& inputs, const Attrs& attrs = {});
  // A scalar constant with the dtype of `like`.
  Tensor c(double v, const Tensor& like);
  Tensor add(const Tensor& a, const Tensor& b) { return op("add", {a, b}); }
  Tensor sub(const Tensor& a, const Tensor& b) { return op("subtract", {a, b}); }
  Tensor mul(const Tensor& a, const Tensor& b) { return op("multiply", {a, b}); }
  Tensor div(const Tensor& a, const Tensor& b) { return op("divide", {a, b}); }
  Tensor neg(const Tensor& a) { return op("negative", {a}); }
  // Sums `grad` over the dimensions broadcasting added, back to the shape of `like`.
  Tensor sum_to(const Tensor& grad, const Tensor& like);
  Tensor broadcast_like(const Tensor& t, const Tensor& like);
  Tensor zeros_like(const Tensor& t);
  Tensor ones_like(const Tensor& t);
  Tensor cast(const Tensor& t, DType dtype);
  // The incoming gradient of output k, or zeros when none flows into it.
  Tensor dy_or_zeros(size_t k);
  int rank(const Tensor& t) const { return int(t.type().dims.size()); }
  const Attrs& attrs() const { return node.attrs; }
  // Attributes, checked as shape rules check them: a wrong type raises
  // GraphError naming the op (a rule may see attributes its shape rule
  // never read, when the input's rank was unknown).
  bool has(const char* key) const { return node.attrs.count(key) != 0; }
  int64_t i(const char* key) const { return InferCtx{node, {}}.i(key); }
  bool flag(const char* key) const { return has(key) && i(key) != 0; }
  const std::vector<int64_t>& ints(const char* key) const { return InferCtx{node, {}}.ints(key); }
  const std::string& s(const char* key) const { return InferCtx{node, {}}.s(key); }
};

}  // namespace ts
