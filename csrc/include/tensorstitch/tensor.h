// Symbolic tensors and operations of a Graph. Both are cheap handles.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tensorstitch/ndarray.h"

namespace ts {

namespace detail { struct GraphData; }
class Operation;

// A tensor's static type. Dims of -1 are known only at run time;
// ranked == false means even the rank is unknown.
struct TensorType {
  bool ranked = true;
  Dims dims;
  DType dtype = DType::Float32;

  bool is_concrete() const;  // ranked with no -1 dims
  std::string str() const;   // "float32(2, -1)" or "float32(*)"
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(std::shared_ptr<detail::GraphData> graph, int id) : g_(std::move(graph)), id_(id) {}

  bool defined() const { return g_ != nullptr; }
  int id() const { return id_; }
  const TensorType& type() const;
  DType dtype() const { return type().dtype; }
  const std::string& name() const;
  Operation op() const;
  int output_index() const;
  const std::shared_ptr<detail::GraphData>& graph_data() const { return g_; }
  bool operator==(const Tensor& o) const { return g_ == o.g_ && id_ == o.id_; }
  bool operator<(const Tensor& o) const { return id_ < o.id_; }

 private:
  std::shared_ptr<detail::GraphData> g_;
  int id_ = -1;
};

class Operation {
 public:
  Operation() = default;
  Operation(std::shared_ptr<detail::GraphData> graph, int id) : g_(std::move(graph)), id_(id) {}

  bool defined() const { return g_ != nullptr; }
  int id() const { return id_; }
  const std::string& name() const;
  const std::string& type() const;
  std::vector<Tensor> inputs() const;
  std::vector<Tensor> outputs() const;
  std::vector<Operation> control_dependencies() const;
  const std::shared_ptr<detail::GraphData>& graph_data() const { return g_; }
  bool operator==(const Operation& o) const { return g_ == o.g_ && id_ == o.id_; }

 private:
  std::shared_ptr<detail::GraphData> g_;
  int id_ = -1;
};

}  // namespace ts
