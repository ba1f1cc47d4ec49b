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

// The index maps and the fill value, built at plan time from the attributes
// and the concrete shapes.
struct MapParams {
  IndexMaps maps;
  double fill = 0;
};

std::shared_ptr<const void> prepare_gather_map(const KernelDesc& d) {
  InferCtx c{*d.node, {}};
  auto p = std::make_shared<MapParams>();
  p->maps = movement_maps(c, d.node->type, d.inputs[0].type.dims, d.outputs[0].dims);
  p->fill = d.node->attrs.count("value") ? c.f("value") : 0.0;
  return p;
}
void gather_map_kernel(KernelCtx& k) {
  const auto& p = *static_cast<const MapParams*>(k.params);
  gather_maps(k.in[0], p.maps, p.fill, k.out[0]);
}

// The adjoint reads the maps of its forward op, from the output (the
// forward's input) to its input (the forward's output).
std::shared_ptr<const void> prepare_movement_grad(const KernelDesc& d) {
  InferCtx c{*d.node, {}};
  auto p = std::make_shared<MapParams>();
  p->maps = movement_maps(c, c.s("forward"), d.outputs[0].dims, d.inputs[0].type.dims);
  return p;
}
void movement_grad_kernel(KernelCtx& k) {
  scatter_add_maps(k.in[0], static_cast<const MapParams*>(k.params)->maps, k.out[0]);
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

TS_CPU_KERNEL("slice", gather_map_kernel, prepare_gather_map);
TS_CPU_KERNEL("pad", gather_map_kernel, prepare_gather_map);
TS_CPU_KERNEL("tile", gather_map_kernel, prepare_gather_map);
TS_CPU_KERNEL("flip", gather_map_kernel, prepare_gather_map);
TS_CPU_KERNEL("movement_grad", movement_grad_kernel, prepare_movement_grad);
TS_CPU_KERNEL("concat", concat_kernel);
TS_CPU_KERNEL("split", split_kernel);
TS_CPU_KERNEL("split_like", split_kernel);

}  // namespace
}  // namespace ts::cpu
