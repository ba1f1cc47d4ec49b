// Building graphs: every op goes through Graph::op, which validates inputs
// and runs the op's shape/dtype rule where the op is built.
#include <algorithm>
#include <set>

#include "ir/graph_data.h"
#include "ops/infer_util.h"
#include "ops/op_def.h"

namespace ts {

using detail::GraphData;
using detail::Node;

Graph::Graph() : d_(std::make_shared<GraphData>()), runs_(detail::new_run_cache()) {}
Graph::Graph(std::shared_ptr<GraphData> d) : d_(std::move(d)), runs_(detail::new_run_cache()) {}

namespace {

std::string unique_name(GraphData& g, const std::string& wanted) {
  int& uses = g.name_uses[wanted];
  std::string name = uses == 0 ? wanted : wanted + "_" + std::to_string(uses);
  ++uses;
  while (name != wanted && g.name_uses.count(name)) name = wanted + "_" + std::to_string(uses++);
  if (name != wanted) g.name_uses[name] = 1;
  return name;
}

void check_same_graph(const GraphData* g, const std::shared_ptr<GraphData>& other, const std::string& op,
                      const std::string& what) {
  if (!other) throw GraphError(op + ": " + what + " is not a tensor of any graph");
  if (other.get() != g) throw GraphError(op + ": " + what + " belongs to another graph");
}

}  // namespace

namespace detail {

std::shared_ptr<GraphData> active_graph(const std::shared_ptr<GraphData>& g) {
  std::lock_guard<std::recursive_mutex> lock(g->mu);
  return g->building.empty() ? g : active_graph(g->building.back());
}

int resolve_tensor(const std::shared_ptr<GraphData>& g, const Tensor& t, const std::string& where) {
  const std::shared_ptr<GraphData>& other = t.graph_data();
  if (!other) throw GraphError(where + " is not a tensor of any graph");
  if (other == g) return t.id();
  const std::shared_ptr<GraphData> parent = g->parent.lock();
  if (!parent || !g->open) {
    if (other->parent.lock())
      throw GraphError(where + " is a tensor inside a control-flow body; only the body's results are seen outside it");
    throw GraphError(where + " belongs to another graph");
  }
  // A tensor of an enclosing graph: passed into the body as a parameter.
  const int outer = resolve_tensor(parent, t, where);
  std::lock_guard<std::recursive_mutex> lock(g->mu);
  for (const auto& [o, inner] : g->captures)
    if (o == outer) return inner;
  const TensorInfo info = parent->tensors[outer];
  Attrs attrs{{"dtype", info.type.dtype}, {"ranked", int64_t(info.type.ranked)}, {"shape", info.type.dims}};
  const int id = add_node(g, "placeholder", {}, attrs, "capture");
  const int inner = g->nodes[id].outputs[0];
  g->captures.emplace_back(outer, inner);
  return inner;
}

int add_node(const std::shared_ptr<GraphData>& gp, const std::string& type, const std::vector<Tensor>& inputs,
             const Attrs& attrs, const std::string& name, const NDArray& value,
             std::vector<std::shared_ptr<const Body>> bodies) {
  GraphData& g = *gp;
  const OpDef* def = find_op(type);
  if (!def) throw GraphError("unknown operation type '" + type + "'");
  std::lock_guard<std::recursive_mutex> lock(g.mu);
  Node n;
  n.type = type;
  n.def = def;
  n.name = name.empty() ? type : name;
  n.attrs = attrs;
  n.value = value;
  n.bodies = std::move(bodies);
  std::string where = type + (name.empty() ? "" : " '" + name + "'");
  if (def->num_inputs >= 0 && int(inputs.size()) != def->num_inputs)
    throw GraphError(where + ": takes " + std::to_string(def->num_inputs) + " inputs, got " +
                     std::to_string(inputs.size()));
  InferCtx ctx{n, {}};
  for (size_t i = 0; i < inputs.size(); ++i) {
    n.inputs.push_back(resolve_tensor(gp, inputs[i], where + ": input " + std::to_string(i)));
    ctx.in.push_back(g.tensors[n.inputs.back()].type);
  }
  std::set<int> deps;
  for (auto& scope : g.control_scopes) deps.insert(scope.begin(), scope.end());
  n.control_deps.assign(deps.begin(), deps.end());
  std::vector<TensorType> outs = def->infer(ctx);
  for (const TensorType& t : outs) check_result(ctx, t);
  n.name = unique_name(g, n.name);
  n.id = int(g.nodes.size());
  for (size_t k = 0; k < outs.size(); ++k) {
    detail::TensorInfo info;
    info.type = outs[k];
    info.producer = n.id;
    info.index = int(k);
    info.name = outs.size() == 1 ? n.name : n.name + ":" + std::to_string(k);
    n.outputs.push_back(int(g.tensors.size()));
    g.tensors.push_back(info);
  }
  g.nodes.push_back(std::move(n));
  return g.nodes.back().id;
}

}  // namespace detail

namespace {

using detail::add_node;

// GraphError for ops that cannot go into a control-flow body being built.
void refuse_in_body(const std::shared_ptr<GraphData>& g, const std::string& what) {
  if (detail::active_graph(g) != g)
    throw GraphError(what + " cannot be created inside a control-flow body; build it outside and use it "
                            "inside (tensors of enclosing graphs are passed in)");
}

const Node& variable_node(const GraphData& g, const Tensor& v, const std::string& where) {
  const Node& n = g.producer(v.id());
  if (n.type == "variable") return n;
  if (n.type == "read_variable") return g.producer(n.inputs[0]);
  throw GraphError(where + ": expected a variable, got the output of " + detail::describe(n));
}

}  // namespace

Tensor Graph::placeholder(const TensorType& type, const std::string& name) {
  Attrs attrs{{"dtype", type.dtype}, {"ranked", int64_t(type.ranked)}, {"shape", type.dims}};
  for (int64_t d : type.dims)
    if (d < -1)
      throw ShapeError("placeholder '" + name + "': dimension " + std::to_string(d) +
                       " is invalid; expected a size >= 0 or -1 (known at run time)");
  refuse_in_body(d_, "placeholder '" + name + "'");
  int id = add_node(d_, "placeholder", {}, attrs, name);
  return Tensor(d_, d_->nodes[id].outputs[0]);
}

Tensor Graph::constant(const NDArray& value, const std::string& name) {
  // A snapshot: the caller's array may change later, the constant may not.
  const std::shared_ptr<GraphData> g = detail::active_graph(d_);
  int id = add_node(g, "constant", {}, {}, name, value.clone());
  return Tensor(g, g->nodes[id].outputs[0]);
}

Tensor Graph::variable(const NDArray& initial_value, const std::string& name) {
  std::lock_guard<std::recursive_mutex> lock(d_->mu);
  // Checkpoints key variables by name: a given name is never silently renamed.
  if (!name.empty() && d_->name_uses.count(name))
    throw GraphError("variable '" + name + "': the name is already used in this graph; variable names are "
                     "checkpoint keys and must be unique");
  NDArray init = initial_value.clone();
  int id = add_node(d_, "variable", {}, {}, name, init);
  d_->variable_values[id] = init;
  return Tensor(d_, d_->nodes[id].outputs[0]);
}

std::vector<Tensor> Graph::op(const std::string& type, const std::vector<Tensor>& inputs, const Attrs& attrs,
                              const std::string& name) {
  const OpDef* def = find_op(type);
  if (def && (def->cls == OpClass::Source || type == "variable" || type == "assign"))
    throw GraphError("operation type '" + type + "' is created with its own Graph method");
  std::vector<Tensor> ins = inputs;
  // Variables live in the outermost graph; a body reads what a read there gives.
  const bool read = type == "read_variable";
  if (read && ins.size() == 1) {  // reading a read reads the variable
    check_same_graph(d_.get(), ins[0].graph_data(), "read_variable", "input 0");
    ins[0] = Tensor(d_, variable_node(*d_, ins[0], "read_variable").outputs[0]);
  }
  const std::shared_ptr<GraphData> g = read ? d_ : detail::active_graph(d_);
  int id = add_node(g, type, ins, attrs, name);
  std::vector<Tensor> outs;
  for (int t : g->nodes[id].outputs) outs.emplace_back(g, t);
  return outs;
}

Operation Graph::assign(const Tensor& variable, const Tensor& value, const std::string& name) {
  refuse_in_body(d_, "assign '" + name + "'");
  check_same_graph(d_.get(), variable.graph_data(), "assign", "the variable");
  check_same_graph(d_.get(), value.graph_data(), "assign", "the value");
  const Node& var = variable_node(*d_, variable, "assign '" + name + "'");
  int id = add_node(d_, "assign", {Tensor(d_, var.outputs[0]), value}, {}, name);
  return Operation(d_, id);
}

void Graph::push_control_dependencies(const std::vector<Operation>& ops) {
  std::lock_guard<std::recursive_mutex> lock(d_->mu);
  std::vector<int> ids;
  for (const Operation& op : ops) {
    if (op.graph_data().get() != d_.get())
      throw GraphError("control_dependencies: an operation belongs to another graph");
    ids.push_back(op.id());
  }
  d_->control_scopes.push_back(ids);
}

void Graph::pop_control_dependencies() {
  std::lock_guard<std::recursive_mutex> lock(d_->mu);
  if (d_->control_scopes.empty()) throw GraphError("control_dependencies: no open scope to close");
  d_->control_scopes.pop_back();
}

std::vector<Operation> Graph::operations() const {
  std::lock_guard<std::recursive_mutex> lock(d_->mu);
  std::vector<Operation> ops;
  for (const Node& n : d_->nodes) ops.emplace_back(d_, n.id);
  return ops;
}

std::vector<Tensor> Graph::variables() const {
  std::lock_guard<std::recursive_mutex> lock(d_->mu);
  std::vector<Tensor> vars;
  for (const Node& n : d_->nodes)
    if (n.type == "variable") vars.emplace_back(d_, n.outputs[0]);
  return vars;
}

NDArray Graph::variable_value(const Tensor& v) const {
  check_same_graph(d_.get(), v.graph_data(), "variable_value", "the variable");
  std::lock_guard<std::recursive_mutex> lock(d_->mu);
  return d_->variable_values.at(variable_node(*d_, v, "variable_value").id);
}

void Graph::set_variable_value(const Tensor& v, const NDArray& value) {
  check_same_graph(d_.get(), v.graph_data(), "set_variable_value", "the variable");
  std::lock_guard<std::recursive_mutex> lock(d_->mu);
  const Node& var = variable_node(*d_, v, "set_variable_value");
  const NDArray& old = d_->variable_values.at(var.id);
  if (value.dtype() != old.dtype())
    throw DTypeError("variable '" + var.name + "': got dtype " + dtype_name(value.dtype()) + "; expected " +
                     dtype_name(old.dtype()));
  if (value.shape() != old.shape())
    throw ShapeError("variable '" + var.name + "': got shape " + dims_str(value.shape()) + "; expected " +
                     dims_str(old.shape()));
  d_->variable_values[var.id] = value.clone();
}

}  // namespace ts
