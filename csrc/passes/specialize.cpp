#include "ops/infer_util.h"
#include "ops/op_def.h"
#include "passes/program.h"

namespace ts {

void specialize(Program& p) {
  for (size_t i = 0; i < p.feeds.size(); ++i) p.types[p.feeds[i]] = p.feed_types[i];
  for (int id : p.nodes) {
    const detail::Node& n = p.node(id);
    InferCtx ctx{n, {}};
    for (int t : n.inputs) ctx.in.push_back(p.types.at(t));
    std::vector<TensorType> outs = n.def->infer(ctx);
    for (size_t k = 0; k < outs.size(); ++k) {
      check_result(ctx, outs[k]);
      if (!outs[k].is_concrete())
        throw CompileError(detail::describe(n) + ": could not determine a concrete shape (got " + outs[k].str() + ")");
      p.types[n.outputs[k]] = outs[k];
    }
  }
}

}  // namespace ts
