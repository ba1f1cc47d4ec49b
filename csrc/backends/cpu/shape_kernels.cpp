// CPU kernels of transpose, broadcast_to/broadcast_like and shape_of.
#include "backends/cpu/broadcast.h"
#include "backends/cpu/kernel_table.h"
#include "backends/cpu/movement.h"
#include "ops/infer_util.h"

namespace ts::cpu {
namespace {

void transpose_kernel(KernelCtx& k) {
  InferCtx c{k.node, {ranked(k.in[0].shape(), k.in[0].dtype())}};
  Dims strides = contiguous_strides(k.in[0].shape()), permuted;
  for (int64_t p : perm_of(c, k.in[0].rank())) permuted.push_back(strides[p]);
  copy_strided(k.in[0], 0, permuted, k.out[0]);
}

void broadcast_kernel(KernelCtx& k) {
  copy_strided(k.in[0], 0, broadcast_strides(k.out[0].shape(), k.in[0].shape()), k.out[0]);
}

void shape_of_kernel(KernelCtx& k) {
  const Dims& dims = k.in[0].shape();
  std::copy(dims.begin(), dims.end(), k.out[0].data_as<int64_t>());
}

TS_CPU_KERNEL("transpose", transpose_kernel);
TS_CPU_KERNEL("broadcast_to", broadcast_kernel);
TS_CPU_KERNEL("broadcast_like", broadcast_kernel);
TS_CPU_KERNEL("shape_of", shape_of_kernel);

}  // namespace
}  // namespace ts::cpu
