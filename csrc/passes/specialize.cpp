#include "ops/infer_util.h"
#include "ops/op_def.h"
#include "passes/program.h"

namespace ts {

std::vector<TensorType> body_param_types(const detail::Body& body, const std::vector<TensorType>& node_inputs) {
  std::vector<TensorType> types;
  for (size_t j = 0; j < body.params.size(); ++j) {
    const int from = body.param_inputs[j];
    types.push_back(from >= 0 ? node_inputs.at(from) : body.g->tensors[body.params[j]].type);
  }
  return types;
}

namespace {

// A body's results for concrete parameter types (nested bodies included).
std::vector<TensorType> body_results(const detail::Body& body, const std::vector<TensorType>& node_inputs) {
  Program q;
  q.g = body.g;
  q.feeds = body.params;
  q.feed_types = body_param_types(body, node_inputs);
  q.targets = body.results;
  std::lock_guard<std::recursive_mutex> lock(body.g->mu);
  prune(q, false);
  specialize(q);
  std::vector<TensorType> types;
  for (int t : body.results) types.push_back(q.types.at(t));
  return types;
}

}  // namespace

void specialize(Program& p) {
  for (size_t i = 0; i < p.feeds.size(); ++i) p.types[p.feeds[i]] = p.feed_types[i];
  for (int id : p.nodes) {
    const detail::Node& n = p.node(id);
    InferCtx ctx{n, {}};
    for (int t : n.inputs) ctx.in.push_back(p.types.at(t));
    std::vector<std::vector<TensorType>> results;
    for (const auto& body : n.bodies) results.push_back(body_results(*body, ctx.in));
    if (!n.bodies.empty()) ctx.body_results = &results;
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
