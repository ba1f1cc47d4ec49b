// CPU kernels of the indexing ops: gather / scatter_add, gather_nd /
// scatter_nd_add, take_along_axis / scatter_add_along_axis, one_hot.
#include <cstring>

#include "backends/cpu/indices.h"
#include "backends/cpu/kernel_table.h"
#include "backends/cpu/reduce.h"
#include "ir/scalar_types.h"

namespace ts::cpu {
namespace {

// Adds src into dst elementwise (n elements of dtype dt).
void add_into(void* dst, const void* src, int64_t n, DType dt) {
  dispatch_all(dt, [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    T* d = static_cast<T*>(dst);
    const T* s = static_cast<const T*>(src);
    for (int64_t i = 0; i < n; ++i) d[i] = T(C(d[i]) + C(s[i]));
  });
}

void gather_kernel(KernelCtx& k) {
  const NDArray &x = k.in[0];
  int axis = k.axis(x.rank());
  AxisView v = axis_view(x.shape(), axis);
  std::vector<int64_t> idx = checked_indices(k.node, k.in[1], v.n, "axis " + std::to_string(axis));
  const size_t block = size_t(v.inner) * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.data());
  char* dst = static_cast<char*>(k.out[0].data());
  const int64_t m = int64_t(idx.size());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < m; ++j) std::memcpy(dst + (o * m + j) * block, src + (o * v.n + idx[j]) * block, block);
}

// ---- scatter_add(x, indices, updates, axis): x with updates added at indices ----
void scatter_add_kernel(KernelCtx& k) {
  const NDArray &x = k.in[0], &upd = k.in[2];
  int axis = k.axis(x.rank());
  AxisView v = axis_view(x.shape(), axis);
  std::vector<int64_t> idx = checked_indices(k.node, k.in[1], v.n, "axis " + std::to_string(axis));
  std::memcpy(k.out[0].data(), x.data(), x.nbytes());
  const size_t es = dtype_size(x.dtype());
  char* dst = static_cast<char*>(k.out[0].data());
  const char* src = static_cast<const char*>(upd.data());
  const int64_t m = int64_t(idx.size());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < m; ++j)
      add_into(dst + (o * v.n + idx[j]) * v.inner * es, src + (o * m + j) * v.inner * es, v.inner, x.dtype());
}

// Element offsets of each index tuple, and the size of the slices they pick.
std::vector<int64_t> nd_offsets(const KernelCtx& k, const NDArray& x, const NDArray& indices, int64_t* slice) {
  const int depth = int(indices.shape().back());
  const int64_t count = num_elements(Dims(indices.shape().begin(), indices.shape().end() - 1));
  *slice = 1;
  for (int d = depth; d < x.rank(); ++d) *slice *= x.shape()[d];
  NDArray all = indices.astype(DType::Int64), column(Dims{count}, DType::Int64);
  std::vector<int64_t> offsets(count, 0);
  int64_t stride = *slice;
  for (int d = depth - 1; d >= 0; stride *= x.shape()[d--]) {
    for (int64_t i = 0; i < count; ++i) column.data_as<int64_t>()[i] = all.data_as<int64_t>()[i * depth + d];
    std::vector<int64_t> at = checked_indices(k.node, column, x.shape()[d], "dimension " + std::to_string(d));
    for (int64_t i = 0; i < count; ++i) offsets[i] += at[i] * stride;
  }
  return offsets;
}

void gather_nd_kernel(KernelCtx& k) {
  int64_t slice = 0;
  std::vector<int64_t> offsets = nd_offsets(k, k.in[0], k.in[1], &slice);
  const size_t es = dtype_size(k.in[0].dtype());
  for (size_t i = 0; i < offsets.size(); ++i)
    std::memcpy(static_cast<char*>(k.out[0].data()) + i * slice * es,
                static_cast<const char*>(k.in[0].data()) + offsets[i] * es, slice * es);
}

void scatter_nd_add_kernel(KernelCtx& k) {
  int64_t slice = 0;
  std::vector<int64_t> offsets = nd_offsets(k, k.in[0], k.in[1], &slice);
  std::memcpy(k.out[0].data(), k.in[0].data(), k.in[0].nbytes());
  const size_t es = dtype_size(k.in[0].dtype());
  for (size_t i = 0; i < offsets.size(); ++i)
    add_into(static_cast<char*>(k.out[0].data()) + offsets[i] * es,
             static_cast<const char*>(k.in[2].data()) + i * slice * es, slice, k.in[0].dtype());
}

// Calls f(x_offset, other_offset) in elements for every element of `other`
// (shaped like the indices), after checking every index.
template <class F>
void along_axis(const KernelCtx& k, const NDArray& x, const NDArray& idx, F&& f) {
  int axis = k.axis(x.rank());
  AxisView vx = axis_view(x.shape(), axis), vi = axis_view(idx.shape(), axis);
  std::vector<int64_t> id = checked_indices(k.node, idx, vx.n, "axis " + std::to_string(axis));
  for (int64_t o = 0; o < vi.outer; ++o)
    for (int64_t j = 0; j < vi.n; ++j)
      for (int64_t in = 0; in < vi.inner; ++in) {
        int64_t p = (o * vi.n + j) * vi.inner + in;
        f((o * vx.n + id[p]) * vx.inner + in, p);
      }
}

void take_along_kernel(KernelCtx& k) {
  const size_t es = dtype_size(k.in[0].dtype());
  char* dst = static_cast<char*>(k.out[0].data());
  const char* src = static_cast<const char*>(k.in[0].data());
  along_axis(k, k.in[0], k.in[1], [&](int64_t xo, int64_t p) { std::memcpy(dst + p * es, src + xo * es, es); });
}

void scatter_along_kernel(KernelCtx& k) {
  std::memcpy(k.out[0].data(), k.in[0].data(), k.in[0].nbytes());
  const size_t es = dtype_size(k.in[0].dtype());
  char* dst = static_cast<char*>(k.out[0].data());
  const char* src = static_cast<const char*>(k.in[2].data());
  along_axis(k, k.in[0], k.in[1], [&](int64_t xo, int64_t p) { add_into(dst + xo * es, src + p * es, 1, k.in[0].dtype()); });
}

void one_hot_kernel(KernelCtx& k) {
  NDArray& out = k.out[0];
  std::memset(out.data(), 0, out.nbytes());
  int axis = k.axis(out.rank());
  AxisView v = axis_view(out.shape(), axis);
  NDArray idx = k.in[0].astype(DType::Int64);
  const int64_t* p = idx.data_as<int64_t>();
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data_as<T>();
    for (int64_t i = 0; i < idx.size(); ++i) {
      int64_t outer = i / v.inner, in = i % v.inner;
      if (p[i] >= 0 && p[i] < v.n) o[(outer * v.n + p[i]) * v.inner + in] = convert<T>(1);
    }
  });
}

TS_CPU_KERNEL("gather", gather_kernel);
TS_CPU_KERNEL("scatter_add", scatter_add_kernel);
TS_CPU_KERNEL("gather_nd", gather_nd_kernel);
TS_CPU_KERNEL("scatter_nd_add", scatter_nd_add_kernel);
TS_CPU_KERNEL("take_along_axis", take_along_kernel);
TS_CPU_KERNEL("scatter_add_along_axis", scatter_along_kernel);
TS_CPU_KERNEL("one_hot", one_hot_kernel);

}  // namespace
}  // namespace ts::cpu
