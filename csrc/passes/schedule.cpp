#include <queue>
#include <set>
#include <unordered_map>

#include "ops/op_def.h"
#include "passes/program.h"

namespace ts {

void schedule(Program& p) {
  std::set<int> live(p.nodes.begin(), p.nodes.end());
  std::unordered_map<int, std::vector<int>> users;
  std::unordered_map<int, int> waiting;
  for (int id : p.nodes) {
    const detail::Node& n = p.node(id);
    std::set<int> deps;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      int t = p.resolve(n.inputs[i]);
      if (n.def->reads_value(i) && !p.known.count(t)) deps.insert(p.g->tensors[t].producer);
    }
    for (int c : n.control_deps) deps.insert(c);
    for (int d : deps)
      if (live.count(d)) {
        users[d].push_back(id);
        ++waiting[id];
      }
  }
  // Two ready queues, lowest id first: everything else before assignments.
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready, ready_assign;
  auto push = [&](int id) { (p.node(id).def->state == StateRole::Assign ? ready_assign : ready).push(id); };
  for (int id : p.nodes)
    if (!waiting[id]) push(id);
  std::vector<int> order;
  while (!ready.empty() || !ready_assign.empty()) {
    auto& q = ready.empty() ? ready_assign : ready;
    int id = q.top();
    q.pop();
    order.push_back(id);
    for (int u : users[id])
      if (--waiting[u] == 0) push(u);
  }
  p.nodes = order;
}

}  // namespace ts
