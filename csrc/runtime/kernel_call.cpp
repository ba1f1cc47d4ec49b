#include "runtime/kernel_call.h"

#include "ops/op_def.h"

namespace ts {

std::vector<NDArray> call_kernel(const detail::Node& node, const std::vector<NDArray>& ins,
                                 const std::vector<TensorType>& out_types, std::vector<NDArray> outs) {
  if (node.def->view) return {ins[0].reshaped(out_types[0].dims)};
  if (!node.def->cpu) throw CompileError(detail::describe(node) + ": has no CPU kernel");
  outs.resize(out_types.size());
  for (size_t k = 0; k < outs.size(); ++k)
    if (!outs[k].defined()) outs[k] = NDArray(out_types[k].dims, out_types[k].dtype);
  KernelCtx k{node, ins, outs};
  node.def->cpu(k);
  return outs;
}

}  // namespace ts
