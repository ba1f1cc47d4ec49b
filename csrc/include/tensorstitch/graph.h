// Graph: owns tensors and operations; build once, run many times.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tensorstitch/executable.h"
#include "tensorstitch/tensor.h"

namespace ts {

namespace detail { struct RunCache; struct GraphData; }

// Operation attributes: axes, shapes, modes, dtypes, scalars.
// DType first: Python binds each alternative in order, and enums also convert to int.
using Attr = std::variant<DType, int64_t, double, std::string, std::vector<int64_t>>;
using Attrs = std::map<std::string, Attr>;

class Graph {
 public:
  Graph();
  // A handle on existing graph data (a control-flow body, for its builders).
  explicit Graph(std::shared_ptr<detail::GraphData> d);

  Tensor placeholder(const TensorType& type, const std::string& name = "");
  Tensor constant(const NDArray& value, const std::string& name = "");
  // A tensor whose value persists across runs; reading it gives its value at
  // the start of the run. A given name must be unused in the graph (it keys
  // checkpoints): GraphError otherwise.
  Tensor variable(const NDArray& initial_value, const std::string& name = "");
  // Adds one operation by its registered type name (see csrc/ops) and returns
  // its outputs. Validates inputs and attributes: ShapeError, DTypeError, GraphError.
  std::vector<Tensor> op(const std::string& type, const std::vector<Tensor>& inputs,
                         const Attrs& attrs = {}, const std::string& name = "");
  Operation assign(const Tensor& variable, const Tensor& value, const std::string& name = "");

  // Operations created while a scope is open run after those listed.
  void push_control_dependencies(const std::vector<Operation>& ops);
  void pop_control_dependencies();

  std::vector<Operation> operations() const;
  std::vector<Tensor> variables() const;
  NDArray variable_value(const Tensor& variable) const;
  void set_variable_value(const Tensor& variable, const NDArray& value);

  // Reverse-mode gradients of sum(y) with respect to each of xs.
  std::vector<Tensor> gradients(const Tensor& y, const std::vector<Tensor>& xs);

  // `tf32`: float32 matmuls may use TF32 tensor cores (on GPUs that have
  // them; TENSORSTITCH_TF32=1 turns it on for every executable).
  // `fusion`: stitch ops into kernels; false runs one kernel per op (to
  // measure what stitching gains; TENSORSTITCH_FUSION=0 does it everywhere).
  Executable compile(const std::vector<std::pair<Tensor, TensorType>>& feeds,
                     const std::vector<Tensor>& targets,
                     const std::vector<Operation>& target_ops = {},
                     Device device = default_device(), bool tf32 = false, bool fusion = true);
  // compile() with the feeds' concrete types, cached per signature, then run.
  std::vector<NDArray> run(const std::vector<std::pair<Tensor, NDArray>>& feeds,
                           const std::vector<Tensor>& targets,
                           const std::vector<Operation>& target_ops = {},
                           Device device = default_device());
  // run() without waiting: the Future completes when the run has.
  Future run_async(const std::vector<std::pair<Tensor, NDArray>>& feeds, const std::vector<Tensor>& targets,
                   const std::vector<Operation>& target_ops = {}, Device device = default_device());

  const std::shared_ptr<detail::GraphData>& data() const { return d_; }

 private:
  // run()'s cached executable for these feeds, targets and device.
  Executable executable_for(const std::vector<std::pair<Tensor, NDArray>>& feeds, const std::vector<Tensor>& targets,
                            const std::vector<Operation>& target_ops, Device device);
  std::shared_ptr<detail::GraphData> d_;
  // run()'s executables. They hold the graph, so the cache belongs to the
  // handles (copies share it), never to the graph: dropping the last handle
  // frees both.
  std::shared_ptr<detail::RunCache> runs_;
};

}  // namespace ts
