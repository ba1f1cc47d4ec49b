#include "runtime/kernel_call.h"

#include "ops/op_def.h"

namespace ts {

std::vector<NDArray> call_kernel(const detail::Node& node, const std::vector<NDArray>& ins,
                                 const std::vector<TensorType>& out_types) {
  if (node.def->view) return {ins[0].reshaped(out_types[0].dims)};
  if (!node.def->cpu) throw CompileError(detail::describe(node) + ": has no CPU kernel");
  std::vector<NDArray> outs;
  for (const TensorType& t : out_types) outs.emplace_back(t.dims, t.dtype);
  KernelCtx k{node, ins, outs};
  node.def->cpu(k);
  return outs;
}

}  // namespace ts
