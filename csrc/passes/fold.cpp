#include "ops/op_def.h"
#include "passes/program.h"
#include "runtime/kernel_call.h"

namespace ts {
namespace {

// Folding must not turn a small graph into a large constant (broadcasting a
// scalar to a big shape, say): keep outputs larger than this and than every
// input as run-time work.
constexpr int64_t kMaxFoldElements = 1 << 16;

bool worth_folding(const Program& p, const detail::Node& n, const std::vector<NDArray>& ins) {
  int64_t out = 0, in = 0;
  for (int t : n.outputs) out += num_elements(p.types.at(t).dims);
  for (const NDArray& a : ins) in = std::max(in, a.size());
  return out <= kMaxFoldElements || out <= in;
}

}  // namespace

void fold(Program& p) {
  for (int id : p.nodes) {
    const detail::Node& n = p.node(id);
    if (n.type == "constant") {
      p.known[n.outputs[0]] = n.value;
      continue;
    }
    if (!n.def->pure || n.def->cls == OpClass::Source) continue;
    std::vector<NDArray> ins;
    bool ready = true;
    for (int t : n.inputs) {
      auto it = p.known.find(t);
      if (it != p.known.end()) ins.push_back(it->second);
      else if (n.def->shape_only) ins.push_back(NDArray::wrap(nullptr, p.types.at(t).dims, p.types.at(t).dtype, nullptr));
      else ready = false;
    }
    if (!ready || !worth_folding(p, n, ins)) continue;
    std::vector<TensorType> types;
    for (int t : n.outputs) types.push_back(p.types.at(t));
    std::vector<NDArray> outs = call_kernel(n, ins, types);
    for (size_t k = 0; k < outs.size(); ++k) p.known[n.outputs[k]] = outs[k];
  }
  prune(p);
}

}  // namespace ts
