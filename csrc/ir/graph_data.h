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

struct GraphData;

// A control-flow op's body (a loop's condition or step, a branch): a graph of
// its own whose placeholders are its parameters. Immutable once built, so
// copies of the op (gradients, inlining) share it.
struct Body {
  std::shared_ptr<GraphData> g;
  std::vector<int> params;   // placeholder tensor ids, in order
  // Per parameter: the node input that feeds it, or -1 for one the executor
  // supplies (a for loop's index).
  std::vector<int> param_inputs;
  std::vector<int> results;  // tensor ids in g
};

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
  std::vector<std::shared_ptr<const Body>> bodies;  // control flow: its subgraphs
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

  // Control-flow bodies: the graph a body was built in, and while it is being
  // built, the outer tensors it reads (outer tensor id -> its placeholder here).
  // Ops added through an outer graph's handle go to the body it is building.
  std::weak_ptr<GraphData> parent;
  bool open = false;
  std::vector<std::pair<int, int>> captures;
  std::vector<std::shared_ptr<GraphData>> building;

  const Node& producer(int tensor) const { return nodes[tensors[tensor].producer]; }
};

// Where ops added through a handle on `g` go: the innermost body being built.
std::shared_ptr<GraphData> active_graph(const std::shared_ptr<GraphData>& g);
// `t` as a tensor id of `g`: its own, or (for a tensor of an enclosing graph
// read inside a body being built) the placeholder capturing it.
// GraphError for a tensor of any other graph.
int resolve_tensor(const std::shared_ptr<GraphData>& g, const Tensor& t, const std::string& where);
// Adds a node to `g` (inputs validated and resolved, the op's shape rule
// run); returns its id. Graph::op and the control-flow builders go through it.
int add_node(const std::shared_ptr<GraphData>& g, const std::string& type, const std::vector<Tensor>& inputs,
             const Attrs& attrs, const std::string& name, const NDArray& value = {},
             std::vector<std::shared_ptr<const Body>> bodies = {});

// A new, empty cache for Graph::run (runtime/executable.cpp).
std::shared_ptr<RunCache> new_run_cache();

// "exp 'x_1'": how messages name an operation.
std::string describe(const Node& n);

}  // namespace detail
}  // namespace ts
