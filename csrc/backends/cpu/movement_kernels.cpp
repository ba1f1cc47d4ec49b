// CPU kernels of the data-movement ops: the index-map gathers (slice, pad,
// tile, flip) and their adjoint, concat and split.
#include <algorithm>
#include <cstring>

#include "backends/cpu/kernel_table.h"
#include "backends/cpu/movement.h"
#include "backends/cpu/reduce.h"
#include "ops/infer_util.h"

namespace ts::cpu {
namespace {

void gather_map_kernel(KernelCtx& k) {
  InferCtx c{k.node, {}};
  gather_maps(k.in[0], movement_maps(c, k.node.type, k.in[0].shape(), k.out[0].shape()),
                   k.node.attrs.count("value") ? k.f("value") : 0.0, k.out[0]);
}

void movement_grad_kernel(KernelCtx& k) {
  InferCtx c{k.node, {}};
  scatter_add_maps(k.in[0], movement_maps(c, k.s("forward"), k.out[0].shape(), k.in[0].shape()), k.out[0]);
}

// Copies blocks along the axis between one array and many.
template <bool kConcat>
void block_copy(NDArray& whole, std::vector<NDArray>& parts, int axis) {
  AxisView v = axis_view(whole.shape(), axis);
  const size_t es = dtype_size(whole.dtype());
  const size_t row = size_t(v.n * v.inner) * es;
  size_t at = 0;
  for (NDArray& p : parts) {
    size_t block = size_t(p.shape()[axis] * v.inner) * es;
    char* w = static_cast<char*>(whole.data()) + at;
    char* q = static_cast<char*>(p.data());
    for (int64_t o = 0; o < v.outer && block; ++o) {
      if (kConcat) std::memcpy(w + o * row, q + o * block, block);
      else std::memcpy(q + o * block, w + o * row, block);
    }
    at += block;
  }
}

int kernel_axis(const KernelCtx& k, int rank) {
  int axis = int(k.i("axis"));
  return axis < 0 ? axis + rank : axis;
}

void concat_kernel(KernelCtx& k) {
  std::vector<NDArray> parts;
  for (const NDArray& a : k.in) parts.push_back(a.dtype() == k.out[0].dtype() ? a : a.astype(k.out[0].dtype()));
  block_copy<true>(k.out[0], parts, k.axis(k.out[0].rank()));
}

void split_kernel(KernelCtx& k) {
  NDArray whole = k.in[0];
  int axis = k.axis(whole.rank());
  int64_t total = 0;
  for (const NDArray& p : k.out) total += p.shape()[axis];
  if (total != whole.shape()[axis])  // shapes known only at run time can still disagree
    throw ShapeError(detail::describe(k.node) + ": pieces of " + std::to_string(total) + " along axis " +
                     std::to_string(axis) + " do not cover " + dims_str(whole.shape()));
  block_copy<false>(whole, k.out, axis);
}

TS_CPU_KERNEL("slice", gather_map_kernel);
TS_CPU_KERNEL("pad", gather_map_kernel);
TS_CPU_KERNEL("tile", gather_map_kernel);
TS_CPU_KERNEL("flip", gather_map_kernel);
TS_CPU_KERNEL("movement_grad", movement_grad_kernel);
TS_CPU_KERNEL("concat", concat_kernel);
TS_CPU_KERNEL("split", split_kernel);
TS_CPU_KERNEL("split_like", split_kernel);

}  // namespace
}  // namespace ts::cpu
