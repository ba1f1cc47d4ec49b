// The inside of an Executable: what was asked for, and one plan per concrete
// input signature.
#pragma once
#include <atomic>
#include <list>
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
  bool tf32 = false;           // float32 matmuls may use TF32
  bool fusion = true;          // stitch ops into kernels (false: one kernel per op)
  // Asynchronous runs in flight at once (launched, not finished): a few
  // overlap host and device work; more would only hold device memory.
  RunOrder in_flight{4};
  Backend* backend = nullptr;  // backend_for(device), looked up once
  KernelCache kernels;         // shared by the plans of all signatures
  // One compile per signature: the first caller builds the plan under the
  // entry's once-flag while runs of other signatures (and of this one, once
  // built) go on; `mu` guards only the list.
  struct PlanEntry {
    std::once_flag once;
    std::shared_ptr<const Plan> plan;
  };
  std::mutex mu;
  // Plans by concrete signature, most recently used first; bounded, so a
  // stream of new batch sizes cannot grow memory without limit.
  static constexpr size_t kMaxPlans = 64;
  std::list<std::pair<std::vector<TensorType>, std::shared_ptr<PlanEntry>>> plans;
  // Runs started so far: each run's index seeds counter-based random ops.
  std::atomic<uint64_t> runs{0};

  std::shared_ptr<const Plan> plan_for(const std::vector<TensorType>& concrete);
  // The most recently used plan when `feeds` match its signature exactly
  // (types already validated then); nullptr otherwise or while it compiles.
  std::shared_ptr<const Plan> last_plan_for(const std::vector<NDArray>& feeds);
};

// What Graph::run caches executables by.
struct RunKey {
  std::vector<int> feeds, targets, ops;
  Device device;
  bool operator==(const RunKey& o) const {
    return feeds == o.feeds && targets == o.targets && ops == o.ops && device == o.device;
  }
};

struct RunCache {
  static constexpr size_t kMaxEntries = 64;
  std::mutex mu;
  std::list<std::pair<RunKey, std::shared_ptr<ExecutableData>>> entries;  // most recently used first
};

std::shared_ptr<ExecutableData> make_executable(const std::shared_ptr<GraphData>& g,
                                                const std::vector<std::pair<Tensor, TensorType>>& feeds,
                                                const std::vector<Tensor>& targets,
                                                const std::vector<Operation>& target_ops, Device device);

}  // namespace ts::detail
