// if_then_else(pred, captures...), while_loop(initial..., captures...) and
// for_loop([count,] initial..., captures...): ops that run bodies (Node::bodies,
// built by ir/control_flow.cpp) instead of a kernel. Their shape rules check
// that loops keep their carried types and that branches agree; their
// gradients are control flow again, over the bodies' gradients.
#include <algorithm>

#include "ir/bodies.h"
#include "ops/grad_ctx.h"
#include "ops/infer_util.h"
#include "tensorstitch/composites.h"
#include "tensorstitch/control_flow.h"

namespace ts {
namespace {

using detail::Body;
using Grads = std::vector<Tensor>;

std::vector<TensorType> results_of(const InferCtx& c, size_t body) {
  if (c.body_results) return c.body_results->at(body);
  const Body& b = *c.node.bodies.at(body);
  std::vector<TensorType> types;
  for (int t : b.results) types.push_back(b.g->tensors[t].type);
  return types;
}

// Two types that may be the same once run-time sizes are known.
bool compatible(const TensorType& a, const TensorType& b) {
  if (a.dtype != b.dtype) return false;
  if (!a.ranked || !b.ranked) return true;
  return dims_match(a.dims, b.dims);
}

void expect_scalar(InferCtx& c, const TensorType& t, DTypeSet dtypes, const std::string& what, const char* want) {
  if (!(dtypes & dtype_bit(t.dtype))) c.fail<DTypeError>(what + " has dtype " + dtype_name(t.dtype) + "; expected " + want);
  if (t.ranked && !t.dims.empty()) c.fail(what + " has shape " + dims_str(t.dims) + "; expected a scalar");
}

// A loop's body returns one value per carried value, of the same type.
void check_carried(InferCtx& c, const std::vector<TensorType>& carried, const std::vector<TensorType>& results) {
  if (results.size() != carried.size())
    c.fail<GraphError>("the body returns " + std::to_string(results.size()) + " values; expected " +
                       std::to_string(carried.size()) + " (one per loop-carried value)");
  for (size_t k = 0; k < carried.size(); ++k) {
    if (results[k].dtype != carried[k].dtype)
      c.fail<DTypeError>("the body changes the dtype of carried value " + std::to_string(k) + " from " +
                         dtype_name(carried[k].dtype) + " to " + dtype_name(results[k].dtype));
    if (!compatible(results[k], carried[k]))
      c.fail("the body changes the shape of carried value " + std::to_string(k) + " from " + carried[k].str() +
             " to " + results[k].str() + "; loop-carried values keep their shapes");
  }
}

std::vector<TensorType> infer_if(InferCtx& c) {
  expect_scalar(c, c.in.at(0), dtype_bit(DType::Bool), "the predicate", "bool");
  const std::vector<TensorType> a = results_of(c, 0), b = results_of(c, 1);
  if (a.size() != b.size())
    c.fail<GraphError>("the branches return " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                       " values; expected the same number");
  std::vector<TensorType> out;
  for (size_t k = 0; k < a.size(); ++k) {
    if (!compatible(a[k], b[k]))
      c.fail<ShapeError>("result " + std::to_string(k) + " is " + a[k].str() + " in the then branch and " + b[k].str() +
                         " in the else branch; expected the same dtype and shape");
    TensorType t = a[k];
    if (t.ranked && b[k].ranked)
      for (size_t d = 0; d < t.dims.size(); ++d)
        if (t.dims[d] != b[k].dims[d]) t.dims[d] = -1;
    out.push_back(b[k].ranked ? t : b[k]);
  }
  return out;
}

std::vector<TensorType> infer_while(InferCtx& c) {
  const size_t k = size_t(c.i("carried"));
  const std::vector<TensorType> carried(c.in.begin(), c.in.begin() + std::min(k, c.in.size()));
  const std::vector<TensorType> cond = results_of(c, 0);
  if (cond.size() != 1) c.fail<GraphError>("the condition returns " + std::to_string(cond.size()) + " values; expected 1");
  expect_scalar(c, cond[0], dtype_bit(DType::Bool), "the condition", "bool");
  check_carried(c, carried, results_of(c, 1));
  return carried;
}

// Outputs: the final values, then (with a count known when built) each
// carried value's history, (count, ...) — its value before each step, which
// the gradient reads; the executor writes it only when something does.
std::vector<TensorType> infer_for(InferCtx& c) {
  const int64_t count = c.i("trip_count");
  const size_t k = size_t(c.i("carried")), first = count < 0 ? 1 : 0;
  if (count < 0)
    expect_scalar(c, c.in.at(0), dtype_bit(DType::Int32) | dtype_bit(DType::Int64), "the trip count", "int32 or int64");
  const std::vector<TensorType> carried(c.in.begin() + first, c.in.begin() + std::min(first + k, c.in.size()));
  check_carried(c, carried, results_of(c, 0));
  std::vector<TensorType> out = carried;
  if (count >= 0)
    for (const TensorType& t : carried) {
      if (!t.ranked) {
        out.push_back(unranked(t.dtype));
        continue;
      }
      Dims dims{count};
      dims.insert(dims.end(), t.dims.begin(), t.dims.end());
      num_elements(dims);  // overflow check
      out.push_back(ranked(dims, t.dtype));
    }
  return out;
}

std::vector<size_t> floating(const std::vector<Tensor>& ts, size_t from, size_t to) {
  std::vector<size_t> idx;
  for (size_t i = from; i < to; ++i)
    if (is_floating(ts[i].dtype())) idx.push_back(i);
  return idx;
}

// sum over k of sum(outs[k] * dys[k]): what reverse mode differentiates to
// pull the output gradients back through a body.
Tensor weighted_sum(Graph& g, const std::vector<Tensor>& outs, const std::vector<Tensor>& dys) {
  Tensor y;
  for (size_t k = 0; k < outs.size(); ++k) {
    const Tensor term = g.op("reduce_sum", {g.op("multiply", {outs[k], dys[k]})[0]})[0];
    const Tensor t = term.dtype() == DType::Float64 ? term : g.op("cast", {term}, {{"dtype", DType::Float64}})[0];
    y = y.defined() ? g.op("add", {y, t})[0] : t;
  }
  return y;
}

// A tensor of an enclosing graph as seen inside the body `g` is building.
Tensor inside(Graph& g, const Tensor& t) {
  const std::shared_ptr<detail::GraphData> active = detail::active_graph(g.data());
  return Tensor(active, detail::resolve_tensor(active, t, "capture"));
}

// The gradients of the float captures (x[first:]) through one branch, given
// the gradients of its float results.
Grads branch_grads(Graph& g, const Body& body, const std::vector<Tensor>& caps, const std::vector<size_t>& float_caps,
                   const std::vector<size_t>& float_results, const std::vector<Tensor>& dys) {
  std::vector<Tensor> args;
  for (const Tensor& t : caps) args.push_back(inside(g, t));
  const std::vector<Tensor> outs = detail::inline_body(g, body, args);
  std::vector<Tensor> picked, picked_dy, xs;
  for (size_t r : float_results) {
    picked.push_back(outs[r]);
    picked_dy.push_back(dys[r]);
  }
  for (size_t m : float_caps) xs.push_back(args[m]);
  const Tensor y = weighted_sum(g, picked, picked_dy);
  if (!y.defined()) {
    Grads zeros;
    for (const Tensor& x : xs) zeros.push_back(g.op("broadcast_like", {scalar_constant(g, 0, x.dtype()), x})[0]);
    return zeros;
  }
  return g.gradients(y, xs);
}

Grads g_if(GradCtx& c) {
  const std::vector<Tensor> caps(c.x.begin() + 1, c.x.end());
  const std::vector<size_t> float_caps = floating(caps, 0, caps.size()), float_results = floating(c.y, 0, c.y.size());
  if (float_caps.empty()) return {};
  std::vector<Tensor> dys;
  for (size_t r = 0; r < c.y.size(); ++r) dys.push_back(is_floating(c.y[r].dtype()) ? c.dy_or_zeros(r) : Tensor());
  auto branch = [&](size_t b) {
    return [&, b](const std::vector<Tensor>&) {
      return branch_grads(c.g, *c.node.bodies[b], caps, float_caps, float_results, dys);
    };
  };
  const std::vector<Tensor> grads = if_then_else(c.g, c.x[0], branch(0), branch(1), c.node.name + "_grad");
  Grads dx(c.x.size());
  for (size_t j = 0; j < float_caps.size(); ++j) dx[1 + float_caps[j]] = grads[j];
  return dx;
}

// The reverse loop: at step i it takes the carried values before forward
// step t = count-1-i from the history, runs the body again and pulls the
// carried gradients back through it, summing the captures' gradients.
Grads g_for(GradCtx& c) {
  const std::string where = detail::describe(c.node);
  const int64_t count = c.i("trip_count");
  if (count < 0)
    throw GraphError(where + ": gradients need a trip count known when the graph is built (an int, not a tensor)");
  const Body& body = *c.node.bodies[0];
  if (detail::draws_random(body))
    throw GraphError(where + ": gradients through a loop body that draws random numbers are not supported");
  const size_t k = size_t(c.i("carried"));
  const std::vector<Tensor> caps(c.x.begin() + k, c.x.end());
  const std::vector<Tensor> history(c.y.begin() + k, c.y.begin() + 2 * k);
  const std::vector<size_t> float_carried = floating(c.x, 0, k), float_caps = floating(caps, 0, caps.size());
  if (float_carried.empty()) return {};  // nothing differentiable flows out
  std::vector<Tensor> initial;
  for (size_t j : float_carried) initial.push_back(c.dy_or_zeros(j));
  for (size_t m : float_caps) initial.push_back(c.zeros_like(caps[m]));
  auto step = [&](const std::vector<Tensor>& p) {
    Graph& g = c.g;
    const Tensor t = g.op("subtract", {scalar_constant(g, double(count - 1), DType::Int32), p[0]})[0];
    std::vector<Tensor> args{t};
    std::vector<Tensor> before;
    for (size_t j = 0; j < k; ++j) {
      before.push_back(g.op("gather", {history[j], t}, {{"axis", int64_t(0)}})[0]);
      args.push_back(before.back());
    }
    for (const Tensor& cap : caps) args.push_back(inside(g, cap));
    const std::vector<Tensor> outs = detail::inline_body(g, body, args);
    std::vector<Tensor> picked, dys, xs;
    for (size_t i = 0; i < float_carried.size(); ++i) {
      picked.push_back(outs[float_carried[i]]);
      dys.push_back(p[1 + i]);
      xs.push_back(before[float_carried[i]]);
    }
    for (size_t m : float_caps) xs.push_back(args[1 + k + m]);
    const Grads grads = g.gradients(weighted_sum(g, picked, dys), xs);
    std::vector<Tensor> next(grads.begin(), grads.begin() + float_carried.size());
    for (size_t i = 0; i < float_caps.size(); ++i)
      next.push_back(g.op("add", {p[1 + float_carried.size() + i], grads[float_carried.size() + i]})[0]);
    return next;
  };
  const std::vector<Tensor> finals = for_loop(c.g, count, step, initial, c.node.name + "_grad");
  Grads dx(c.x.size());
  for (size_t i = 0; i < float_carried.size(); ++i) dx[float_carried[i]] = finals[i];
  for (size_t i = 0; i < float_caps.size(); ++i) dx[k + float_caps[i]] = finals[float_carried.size() + i];
  return dx;
}

Grads g_while(GradCtx& c) {
  throw GraphError(detail::describe(c.node) +
                   ": while_loop has no gradient (its trip count is known only at run time); use for_loop with a count");
}

OpDef control_def(const char* name, ControlKind kind, InferFn infer, GradFn grad) {
  OpDef d = make_op(name, OpClass::Control, -1, infer, grad);
  d.control = kind;
  d.pure = false;  // runs bodies: never folded or deduplicated as a kernel
  return d;
}

const bool registered = [] {
  register_op(control_def("if_then_else", ControlKind::Branch, infer_if, g_if));
  OpDef w = control_def("while_loop", ControlKind::WhileLoop, infer_while, g_while);
  w.differentiable = false;  // its rule only explains why
  register_op(w);
  register_op(control_def("for_loop", ControlKind::ForLoop, infer_for, g_for));
  return true;
}();

}  // namespace
}  // namespace ts
