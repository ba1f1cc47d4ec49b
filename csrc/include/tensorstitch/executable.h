// A compiled graph: feeds in, targets out. Specializes and caches itself per
// concrete input signature when compiled with -1 dims.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "tensorstitch/future.h"
#include "tensorstitch/ndarray.h"
#include "tensorstitch/tensor.h"

namespace ts {

namespace detail { struct ExecutableData; }
struct KernelDesc;

// One kernel of a profiled run.
struct KernelProfile {
  std::string name;               // the kernel's root op
  std::vector<std::string> ops;   // the ops inside, in order
  double seconds = 0;             // measured, launch to completion
  int64_t bytes = 0;              // read from memory plus written
  double flops = 0;               // an estimate (see Plan)
};

class Executable {
 public:
  Executable() = default;
  explicit Executable(std::shared_ptr<detail::ExecutableData> data) : d_(std::move(data)) {}

  // Feeds in the order of feed_tensors(). Validates them (FeedError), runs,
  // and commits variable assignments only if the whole run succeeded.
  std::vector<NDArray> run(const std::vector<NDArray>& feeds) const;
  // Returns at once; validation, compile and run errors arrive through the
  // Future. Several runs may be in flight.
  Future run_async(const std::vector<NDArray>& feeds) const;
  // Runs once, waiting for each kernel before the next, and reports each
  // kernel's time, memory traffic and arithmetic (a run like any other:
  // variables are assigned).
  std::vector<KernelProfile> profile(const std::vector<NDArray>& feeds) const;
  // The device's memory bandwidth in bytes per second, measured once (a
  // large copy), for comparing kernels against it.
  double copy_bandwidth() const;
  const std::vector<Tensor>& feed_tensors() const;
  const std::vector<Tensor>& targets() const;
  // The plan for the given concrete feed types (kernels, buffers, peak memory).
  std::string explain(const std::vector<TensorType>& feed_types) const;
  // The plan of every signature compiled so far.
  std::string explain() const;
  // The steps of the most recently used plan, in order: "kernel", "view" or
  // "state", with the ids of the graph operations each computes. Empty
  // before the first compile.
  std::vector<std::pair<std::string, std::vector<int>>> steps() const;
  // The kernel descriptions of the most recently used plan, in step order
  // (for inspection and code generation; empty before the first compile).
  std::vector<std::shared_ptr<const KernelDesc>> kernels() const;
  Device device() const;

 private:
  std::shared_ptr<detail::ExecutableData> d_;
};

}  // namespace ts
