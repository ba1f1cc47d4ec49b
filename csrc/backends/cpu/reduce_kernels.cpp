// CPU kernels of the reductions and of sum_to_like.
#include "backends/cpu/kernel_table.h"
#include "backends/cpu/reduce.h"
#include "ops/infer_util.h"

namespace ts::cpu {
namespace {

template <Reduce K>
void reduce_kernel(KernelCtx& k) {
  InferCtx c{k.node, {ranked(k.in[0].shape(), k.in[0].dtype())}};
  reduce(k.in[0], reduced_axes(c, k.in[0].rank()), K, k.out[0]);
}

template <bool kMax>
void arg_kernel(KernelCtx& k) {
  NDArray x = k.in[0];
  int axis = 0;
  if (k.node.attrs.count("axis")) {
    axis = int(k.i("axis"));
    if (axis < 0) axis += x.rank();
  } else {
    x = x.reshaped({x.size()});
  }
  arg_reduce(x, axis, kMax, k.out[0]);
}

void sum_to_like_kernel(KernelCtx& k) {
  const Dims &xs = k.in[0].shape(), &ls = k.out[0].shape();
  size_t lead = xs.size() - ls.size();
  std::vector<int> axes;
  for (size_t d = 0; d < xs.size(); ++d)
    if (d < lead || (ls[d - lead] == 1 && xs[d] != 1)) axes.push_back(int(d));
  reduce(k.in[0], axes, Reduce::Sum, k.out[0]);
}

TS_CPU_KERNEL("reduce_sum", reduce_kernel<Reduce::Sum>);
TS_CPU_KERNEL("reduce_mean", reduce_kernel<Reduce::Mean>);
TS_CPU_KERNEL("reduce_max", reduce_kernel<Reduce::Max>);
TS_CPU_KERNEL("reduce_min", reduce_kernel<Reduce::Min>);
TS_CPU_KERNEL("reduce_prod", reduce_kernel<Reduce::Prod>);
TS_CPU_KERNEL("argmax", arg_kernel<true>);
TS_CPU_KERNEL("argmin", arg_kernel<false>);
TS_CPU_KERNEL("sum_to_like", sum_to_like_kernel);

}  // namespace
}  // namespace ts::cpu
