// The inside of an Executable: what was asked for, and one plan per concrete
// input signature.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/plan.h"
#include "tensorstitch/executable.h"

namespace ts::detail {

struct ExecutableData {
  std::shared_ptr<GraphData> g;
  std::vector<Tensor> feeds;
  std::vector<TensorType> feed_types;  // as declared at compile time (may hold -1)
  std::vector<Tensor> targets;
  std::vector<int> target_ops;
  Device device;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const Plan>> plans;  // by signature
  // The last signature used: repeated runs skip building the key.
  std::vector<TensorType> last_types;
  std::shared_ptr<const Plan> last_plan;

  std::shared_ptr<const Plan> plan_for(const std::vector<TensorType>& concrete);
};

std::shared_ptr<ExecutableData> make_executable(const std::shared_ptr<GraphData>& g,
                                                const std::vector<std::pair<Tensor, TensorType>>& feeds,
                                                const std::vector<Tensor>& targets,
                                                const std::vector<Operation>& target_ops, Device device);

}  // namespace ts::detail
