#include <set>

#include "ops/op_def.h"
#include "passes/program.h"
#include "tensorstitch/error.h"

namespace ts {

void prune(Program& p, bool shapes_known) {
  std::set<int> feeds(p.feeds.begin(), p.feeds.end());
  std::vector<bool> live(p.g->nodes.size(), false);
  std::vector<int> stack(p.target_ops);
  auto need_tensor = [&](int t) {
    t = p.resolve(t);
    if (!p.known.count(t) && !feeds.count(t)) stack.push_back(p.g->tensors[t].producer);
  };
  for (int t : p.targets) need_tensor(t);
  while (!stack.empty()) {
    int id = stack.back();
    stack.pop_back();
    if (live[id]) continue;
    live[id] = true;
    const detail::Node& n = p.node(id);
    if (n.def->fed)
      throw FeedError("placeholder '" + n.name + "' (" + p.g->tensors[n.outputs[0]].type.str() +
                      ") is needed by the targets but was not fed");
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (!shapes_known || n.def->reads_value(i)) need_tensor(n.inputs[i]);
    for (int c : n.control_deps) stack.push_back(c);
  }
  p.nodes.clear();  // creation order is a topological order
  for (size_t id = 0; id < live.size(); ++id)
    if (live[id]) p.nodes.push_back(int(id));
}

}  // namespace ts
