// The inside of a Graph: nodes and tensors in creation order (a node's inputs
// always come before it, so creation order is a topological order).
#pragma once
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tensorstitch/graph.h"

namespace ts {
struct OpDef;
namespace detail {

struct Node {
  int id = -1;
  std::string type;
  const OpDef* def = nullptr;
  std::string name;
  std::vector<int> inputs;   // tensor ids
  std::vector<int> outputs;  // tensor ids
  std::vector<int> control_deps;  // node ids
  Attrs attrs;
  NDArray value;  // a constant's value, a variable's initial value
};

struct TensorInfo {
  TensorType type;
  int producer = -1;
  int index = 0;
  std::string name;
};

// Runs that assign variables take turns, like work on one device queue:
// each reads the values the previous one committed. Released by whichever
// thread finishes the run, so it is a flag, not a mutex.
// With a capacity above one it counts: at most that many holders at once.
struct RunOrder {
  explicit RunOrder(int capacity = 1) : free(capacity) {}
  std::mutex mu;
  std::condition_variable cv;
  int free;
  void acquire() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return free > 0; });
    --free;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++free;
    }
    cv.notify_one();
  }
};

struct GraphData {
  mutable std::recursive_mutex mu;
  RunOrder writers;
  std::deque<Node> nodes;
  std::deque<TensorInfo> tensors;
  std::vector<std::vector<int>> control_scopes;
  std::map<int, NDArray> variable_values;  // variable node id -> committed value
  std::map<std::string, int> name_uses;

  const Node& producer(int tensor) const { return nodes[tensors[tensor].producer]; }
};

// A new, empty cache for Graph::run (runtime/executable.cpp).
std::shared_ptr<RunCache> new_run_cache();

// "exp 'x_1'": how messages name an operation.
std::string describe(const Node& n);

}  // namespace detail
}  // namespace ts
