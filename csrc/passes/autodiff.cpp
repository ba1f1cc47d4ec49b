// Reverse-mode automatic differentiation: walks the ops between xs and y
// backwards, asking each op's gradient rule (declared with the op) for the
// gradients of its inputs, and sums the contributions per tensor.
#include "ops/grad_ctx.h"

#include <algorithm>
#include <map>
#include <set>

#include "ops/op_def.h"

namespace ts {

std::vector<Tensor> Graph::gradients(const Tensor& y, const std::vector<Tensor>& given_xs) {
  // Inside a control-flow body being built, gradients are taken there.
  if (const std::shared_ptr<detail::GraphData> active = detail::active_graph(d_); active != d_)
    return Graph(active).gradients(y, given_xs);
  if (y.graph_data() != d_) throw GraphError("gradients: y belongs to another graph");
  std::vector<Tensor> xs;
  for (const Tensor& x : given_xs)
    xs.emplace_back(d_, x.defined() ? detail::resolve_tensor(d_, x, "gradients: x '" + x.name() + "'") : -1);
  if (!is_floating(y.dtype()))
    throw DTypeError("gradients: y '" + y.name() + "' has dtype " + dtype_name(y.dtype()) + "; expected a floating dtype");
  for (const Tensor& x : xs) {
    if (x.id() < 0) throw GraphError("gradients: x is not a tensor of any graph");
    if (!is_floating(x.dtype()))
      throw DTypeError("gradients: x '" + x.name() + "' has dtype " + dtype_name(x.dtype()) + "; expected a floating dtype");
  }
  std::lock_guard<std::recursive_mutex> lock(d_->mu);
  const int end = int(d_->nodes.size());  // rules add nodes; walk only the forward ones

  // Nodes between some x and y: reachable from y backwards, reaching an x forwards.
  std::set<int> targets;
  for (const Tensor& x : xs) targets.insert(x.id());
  std::vector<bool> on_path(end, false), from_y(end, false);
  from_y[d_->tensors[y.id()].producer] = true;
  for (int id = end - 1; id >= 0; --id) {
    if (!from_y[id]) continue;
    const detail::Node& n = d_->nodes[id];
    for (size_t i = 0; i < n.inputs.size(); ++i)  // shapes carry no gradient
      if (n.def->reads_value(i)) from_y[d_->tensors[n.inputs[i]].producer] = true;
  }
  std::vector<bool> reaches_x(d_->tensors.size(), false);
  for (int t : targets) reaches_x[t] = true;
  for (int id = 0; id < end; ++id) {
    const detail::Node& n = d_->nodes[id];
    bool any = false;
    for (size_t i = 0; i < n.inputs.size(); ++i) any = any || (n.def->reads_value(i) && reaches_x[n.inputs[i]]);
    if (!any) continue;
    for (int t : n.outputs) reaches_x[t] = true;
    on_path[id] = from_y[id];
  }

  std::map<int, Tensor> grad;  // tensor id -> accumulated gradient
  std::set<std::string> blocked;
  {
    GradCtx root{*this, d_->nodes[d_->tensors[y.id()].producer], {}, {}, {}};
    grad[y.id()] = root.ones_like(y);
  }
  for (int id = end - 1; id >= 0; --id) {
    if (!on_path[id]) continue;
    const detail::Node& n = d_->nodes[id];
    GradCtx ctx{*this, n, {}, {}, {}};
    bool any = false;
    for (int t : n.outputs) {
      ctx.y.emplace_back(d_, t);
      auto it = grad.find(t);
      ctx.dy.push_back(it == grad.end() ? Tensor() : it->second);
      any = any || it != grad.end();
    }
    if (!any) continue;
    for (int t : n.inputs) ctx.x.emplace_back(d_, t);
    if (!n.def->grad) {
      blocked.insert(detail::describe(n));
      continue;
    }
    std::vector<Tensor> dx = n.def->grad(ctx);
    dx.resize(n.inputs.size());
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      const Tensor& in = ctx.x[i];
      if (!reaches_x[in.id()] || !n.def->reads_value(i)) continue;
      if (!dx[i].defined() || !is_floating(in.dtype())) {
        // Remembered in case some x ends up with no gradient at all.
        blocked.insert(detail::describe(is_floating(in.dtype()) ? n : d_->producer(in.id())));
        continue;
      }
      Tensor g = dx[i].dtype() == in.dtype() ? dx[i] : ctx.cast(dx[i], in.dtype());
      auto it = grad.find(in.id());
      grad[in.id()] = it == grad.end() ? g : ctx.add(it->second, g);
    }
  }

  std::vector<Tensor> out;
  for (const Tensor& x : xs) {
    auto it = grad.find(x.id());
    if (it != grad.end()) {
      out.push_back(it->second);
      continue;
    }
    if (!blocked.empty() && reaches_x[x.id()] && from_y[d_->tensors[x.id()].producer]) {
      std::string names;
      for (const std::string& b : blocked) names += (names.empty() ? "" : ", ") + b;
      throw GraphError("gradients: y '" + y.name() + "' depends on x '" + x.name() +
                       "' only through operations without a gradient: " + names);
    }
    // y does not depend on x: the gradient is zero.
    GradCtx ctx{*this, d_->nodes[d_->tensors[x.id()].producer], {}, {}, {}};
    out.push_back(ctx.zeros_like(x));
  }
  return out;
}

}  // namespace ts
