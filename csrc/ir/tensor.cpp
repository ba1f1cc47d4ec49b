#include "tensorstitch/tensor.h"

#include "ir/graph_data.h"
#include "ops/infer_util.h"

namespace ts {

bool TensorType::is_concrete() const {
  if (!ranked) return false;
  for (int64_t d : dims)
    if (d < 0) return false;
  return true;
}

std::string TensorType::str() const {
  return std::string(dtype_name(dtype)) + (ranked ? dims_str(dims) : "(*)");
}

const TensorType& Tensor::type() const { return g_->tensors[id_].type; }
const std::string& Tensor::name() const { return g_->tensors[id_].name; }
Operation Tensor::op() const { return Operation(g_, g_->tensors[id_].producer); }
int Tensor::output_index() const { return g_->tensors[id_].index; }

const std::string& Operation::name() const { return g_->nodes[id_].name; }
const std::string& Operation::type() const { return g_->nodes[id_].type; }

std::vector<Tensor> Operation::inputs() const {
  std::vector<Tensor> r;
  for (int t : g_->nodes[id_].inputs) r.emplace_back(g_, t);
  return r;
}

std::vector<Tensor> Operation::outputs() const {
  std::vector<Tensor> r;
  for (int t : g_->nodes[id_].outputs) r.emplace_back(g_, t);
  return r;
}

std::vector<Operation> Operation::control_dependencies() const {
  std::vector<Operation> r;
  for (int n : g_->nodes[id_].control_deps) r.emplace_back(g_, n);
  return r;
}

namespace detail {
std::string describe(const Node& n) { return n.type + " '" + n.name + "'"; }
}  // namespace detail

}  // namespace ts
