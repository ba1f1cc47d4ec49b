// Building control flow: each body is a graph of its own under the graph
// being built, made by calling the user's function on its parameters while
// the outer graph routes new ops into it (graph.cpp). Tensors of enclosing
// graphs that the body reads become extra parameters, fed by extra inputs of
// the control-flow node.
#include "tensorstitch/control_flow.h"

#include <algorithm>

#include "ir/bodies.h"
#include "ir/graph_data.h"
#include "ops/infer_util.h"
#include "ops/op_def.h"

namespace ts {

using detail::Body;
using detail::GraphData;

namespace {

std::string where_of(const char* op, const std::string& name) {
  return std::string(op) + (name.empty() ? "" : " '" + name + "'");
}

// One body while it is built: its graph, open for captures and receiving the
// outer graph's new ops while the function runs.
class BodyBuild {
 public:
  BodyBuild(std::shared_ptr<GraphData> parent, const std::vector<TensorType>& types, std::vector<int> param_inputs)
      : parent_(std::move(parent)), body_(std::make_shared<Body>()) {
    body_->g = std::make_shared<GraphData>();
    body_->g->parent = parent_;
    body_->g->open = true;
    body_->param_inputs = std::move(param_inputs);
    for (const TensorType& t : types) {
      Attrs attrs{{"dtype", t.dtype}, {"ranked", int64_t(t.ranked)}, {"shape", t.dims}};
      const int id = detail::add_node(body_->g, "placeholder", {}, attrs, "parameter");
      body_->params.push_back(body_->g->nodes[id].outputs[0]);
    }
  }
  ~BodyBuild() { leave(); }

  // Calls `fn` on the parameters with new ops routed into the body.
  void run(const BodyFn& fn, const std::string& where) {
    std::vector<Tensor> params;
    for (int t : body_->params) params.emplace_back(body_->g, t);
    {
      std::lock_guard<std::recursive_mutex> lock(parent_->mu);
      parent_->building.push_back(body_->g);
      entered_ = true;
    }
    const std::vector<Tensor> results = fn(params);
    leave();
    for (size_t k = 0; k < results.size(); ++k) {
      if (!results[k].defined()) throw GraphError(where + ": result " + std::to_string(k) + " is not a tensor");
      body_->results.push_back(detail::resolve_tensor(body_->g, results[k], where + ": result " + std::to_string(k)));
    }
  }

  std::vector<TensorType> result_types() const {
    std::vector<TensorType> types;
    for (int t : body_->results) types.push_back(body_->g->tensors[t].type);
    return types;
  }
  std::shared_ptr<Body>& body() { return body_; }

 private:
  void leave() {
    if (!entered_) return;
    std::lock_guard<std::recursive_mutex> lock(parent_->mu);
    auto& b = parent_->building;
    b.erase(std::remove(b.begin(), b.end(), body_->g), b.end());
    entered_ = false;
  }
  std::shared_ptr<GraphData> parent_;
  std::shared_ptr<Body> body_;
  bool entered_ = false;
};

// Gives every body a parameter for each outer tensor any of them reads (the
// node passes them all), appends those tensors to `inputs` and closes the
// bodies.
std::vector<std::shared_ptr<const Body>> close_bodies(const std::shared_ptr<GraphData>& parent,
                                                      std::vector<BodyBuild*> builds, std::vector<Tensor>& inputs) {
  std::vector<int> outer;
  for (BodyBuild* b : builds)
    for (const auto& [o, inner] : b->body()->g->captures)
      if (std::find(outer.begin(), outer.end(), o) == outer.end()) outer.push_back(o);
  std::vector<std::shared_ptr<const Body>> bodies;
  for (BodyBuild* b : builds) {
    Body& body = *b->body();
    for (size_t j = 0; j < outer.size(); ++j) {
      const int inner = detail::resolve_tensor(body.g, Tensor(parent, outer[j]), "capture");
      body.params.push_back(inner);
      body.param_inputs.push_back(int(inputs.size() + j));
    }
    body.g->open = false;
    bodies.push_back(b->body());
  }
  for (int o : outer) inputs.emplace_back(parent, o);
  return bodies;
}

std::vector<Tensor> outputs(const std::shared_ptr<GraphData>& g, int node, size_t count) {
  std::vector<Tensor> out;
  for (size_t k = 0; k < count; ++k) out.emplace_back(g, g->nodes[node].outputs[k]);
  return out;
}

std::vector<TensorType> types_of(const std::vector<Tensor>& ts, const std::string& where) {
  std::vector<TensorType> types;
  for (size_t k = 0; k < ts.size(); ++k) {
    if (!ts[k].defined()) throw GraphError(where + ": initial value " + std::to_string(k) + " is not a tensor");
    types.push_back(ts[k].type());
  }
  return types;
}

std::vector<int> carried_inputs(size_t first, size_t count) {
  std::vector<int> v(count);
  for (size_t k = 0; k < count; ++k) v[k] = int(first + k);
  return v;
}

}  // namespace

std::vector<Tensor> if_then_else(Graph& g, const Tensor& pred, const BodyFn& then_fn, const BodyFn& else_fn,
                                 const std::string& name) {
  const std::shared_ptr<GraphData> parent = detail::active_graph(g.data());
  const std::string where = where_of("if_then_else", name);
  if (!pred.defined()) throw GraphError(where + ": the predicate is not a tensor");
  BodyBuild then_b(parent, {}, {}), else_b(parent, {}, {});
  then_b.run(then_fn, where + " (then)");
  else_b.run(else_fn, where + " (else)");
  std::vector<Tensor> inputs{pred};
  auto bodies = close_bodies(parent, {&then_b, &else_b}, inputs);
  const int id = detail::add_node(parent, "if_then_else", inputs, {}, name, {}, std::move(bodies));
  return outputs(parent, id, then_b.result_types().size());
}

std::vector<Tensor> while_loop(Graph& g, const BodyFn& cond_fn, const BodyFn& body_fn,
                               const std::vector<Tensor>& initial, const std::string& name) {
  const std::shared_ptr<GraphData> parent = detail::active_graph(g.data());
  const std::string where = where_of("while_loop", name);
  const std::vector<TensorType> types = types_of(initial, where);
  BodyBuild cond(parent, types, carried_inputs(0, types.size())), body(parent, types, carried_inputs(0, types.size()));
  cond.run(cond_fn, where + " (cond)");
  body.run(body_fn, where + " (body)");
  std::vector<Tensor> inputs = initial;
  auto bodies = close_bodies(parent, {&cond, &body}, inputs);
  const int id = detail::add_node(parent, "while_loop", inputs, {{"carried", int64_t(types.size())}}, name, {},
                                  std::move(bodies));
  return outputs(parent, id, types.size());
}

std::vector<Tensor> for_loop(Graph& g, const std::variant<int64_t, Tensor>& n, const BodyFn& body_fn,
                             const std::vector<Tensor>& initial, const std::string& name) {
  const std::shared_ptr<GraphData> parent = detail::active_graph(g.data());
  const std::string where = where_of("for_loop", name);
  std::vector<Tensor> inputs;
  Attrs attrs{{"carried", int64_t(initial.size())}, {"trip_count", int64_t(-1)}};
  if (const int64_t* count = std::get_if<int64_t>(&n)) {
    if (*count < 0) throw ShapeError(where + ": the trip count is " + std::to_string(*count) + "; expected >= 0");
    attrs["trip_count"] = *count;
  } else {
    inputs.push_back(std::get<Tensor>(n));
    if (!inputs[0].defined()) throw GraphError(where + ": the trip count is not a tensor");
  }
  std::vector<TensorType> types = types_of(initial, where);
  std::vector<int> param_inputs = carried_inputs(inputs.size(), types.size());
  types.insert(types.begin(), ranked({}, DType::Int32));  // the index
  param_inputs.insert(param_inputs.begin(), -1);
  BodyBuild body(parent, types, param_inputs);
  body.run(body_fn, where);
  inputs.insert(inputs.end(), initial.begin(), initial.end());
  auto bodies = close_bodies(parent, {&body}, inputs);
  const int id = detail::add_node(parent, "for_loop", inputs, attrs, name, {}, std::move(bodies));
  return outputs(parent, id, initial.size());
}

namespace detail {

std::vector<Tensor> inline_body(Graph& into, const Body& body, const std::vector<Tensor>& args) {
  const std::shared_ptr<GraphData> g = active_graph(into.data());
  std::vector<Tensor> env(body.g->tensors.size());
  for (size_t j = 0; j < body.params.size(); ++j) env[body.params[j]] = args.at(j);
  for (const Node& n : body.g->nodes) {
    if (n.def->fed) continue;  // a parameter, bound above
    std::vector<Tensor> ins;
    for (int t : n.inputs) ins.push_back(env[t]);
    const int id = add_node(g, n.type, ins, n.attrs, n.name, n.value, n.bodies);
    for (size_t k = 0; k < n.outputs.size(); ++k) env[n.outputs[k]] = Tensor(g, g->nodes[id].outputs[k]);
  }
  std::vector<Tensor> results;
  for (int t : body.results) results.push_back(env[t]);
  return results;
}

bool draws_random(const Body& body) {
  for (const Node& n : body.g->nodes) {
    if (n.def->cls == OpClass::Random) return true;
    for (const auto& b : n.bodies)
      if (draws_random(*b)) return true;
  }
  return false;
}

}  // namespace detail
}  // namespace ts
