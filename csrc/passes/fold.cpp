#include "ir/scalar_types.h"
#include "ops/op_def.h"
#include "passes/program.h"
#include "runtime/backend.h"

namespace ts {
namespace {

// Folding must not turn a small graph into a large constant (broadcasting a
// scalar to a big shape, say): keep outputs larger than this and than every
// input as run-time work.
constexpr int64_t kMaxFoldElements = 1 << 16;

bool worth_folding(const Program& p, const detail::Node& n, const std::vector<NDArray>& ins) {
  int64_t out = 0, in = 0;
  for (int t : n.outputs) out += num_elements(p.types.at(t).dims);
  for (const NDArray& a : ins) in = std::max(in, a.defined() ? a.size() : 0);
  return out <= kMaxFoldElements || out <= in;
}

// A stand-in carrying only the shape, for inputs a kernel reads no value of.
NDArray shape_stand_in(const TensorType& t) { return NDArray::wrap(nullptr, t.dims, t.dtype, nullptr); }

// True when every element of tensor t is known to equal `value`: a known
// array, or a (not folded) broadcast of one.
bool uniform(const Program& p, int t, double value, const std::vector<bool>& live) {
  t = p.resolve(t);
  auto it = p.known.find(t);
  if (it == p.known.end()) {
    const detail::Node& n = p.g->producer(t);
    return n.def->broadcast && live[n.id] && uniform(p, n.inputs[0], value, live);
  }
  const NDArray& a = it->second;
  bool all = true;
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* d = a.data_as<T>();
    for (int64_t i = 0; all && i < a.size(); ++i) all = double(compute_t<T>(d[i])) == value;
  });
  return all;
}

// The input a node reduces to when it is x*1, 1*x, x/1, x+0, 0+x or x-0
// with x already of the output's type, or a view keeping the type; -1
// otherwise.
int identity_input(const Program& p, const detail::Node& n, const std::vector<bool>& live) {
  const TensorType& out = p.types.at(n.outputs[0]);
  // A view that keeps the type (identity, stop_gradient, a reshape to the
  // same shape) is its input: no step, and nothing between fused ops.
  if (n.def->view && n.inputs.size() == 1) {
    const TensorType& in = p.types.at(p.resolve(n.inputs[0]));
    return in.dims == out.dims && in.dtype == out.dtype ? n.inputs[0] : -1;
  }
  if (!n.def->has_identity || n.inputs.size() != 2) return -1;
  for (int keep = 0; keep < (n.def->commutative ? 2 : 1); ++keep) {
    int x = n.inputs[keep], other = n.inputs[1 - keep];
    const TensorType& xt = p.types.at(x);
    if (xt.dims == out.dims && xt.dtype == out.dtype && uniform(p, other, n.def->identity, live)) return x;
  }
  return -1;
}

}  // namespace

void fold(Program& p) {
  std::vector<bool> live(p.g->nodes.size(), false);
  for (int id : p.nodes) live[id] = true;
  for (int id : p.nodes) {
    const detail::Node& n = p.node(id);
    if (n.def->cls == OpClass::Source && !n.def->fed) {  // a constant
      p.known[n.outputs[0]] = n.value;
      continue;
    }
    if (!n.def->pure || n.def->cls == OpClass::Source) continue;
    std::vector<NDArray> ins;
    bool ready = true;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      int t = p.resolve(n.inputs[i]);
      auto it = p.known.find(t);
      if (!n.def->reads_value(i)) ins.push_back(shape_stand_in(p.types.at(t)));
      else if (it != p.known.end()) ins.push_back(it->second);
      else ready = false;
    }
    if (ready && worth_folding(p, n, ins)) {
      // Folding computes on the host backend, whatever device the plan is for.
      std::vector<NDArray> outs;
      if (n.def->view) {
        outs.push_back(ins[0].reshaped(p.types.at(n.outputs[0]).dims));
      } else {
        Backend& host = host_backend();
        outs = host.run_now(*host.compile(lower_node(p, n)), ins);
      }
      for (size_t k = 0; k < outs.size(); ++k) p.known[n.outputs[k]] = outs[k];
      continue;
    }
    int same = identity_input(p, n, live);
    if (same >= 0) p.alias[n.outputs[0]] = p.resolve(same);
  }
  prune(p, true);
}

}  // namespace ts
