// Indexing: gather / scatter_add (along one axis, NumPy's take), gather_nd /
// scatter_nd_add, take_along_axis / scatter_add_along_axis, one_hot. Each
// scatter is its gather's gradient and the other way round.
#include <cstring>

#include "backends/cpu/indices.h"
#include "backends/cpu/reduce.h"
#include "ir/scalar_types.h"
#include "ops/infer_util.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

void expect_indices(const InferCtx& c, const TensorType& t) {
  expect_dtype(c, is_integer(t.dtype), t, "an integer dtype for indices");
}
int op_axis(const InferCtx& c, int rank) { return normalize_axis(c, c.i("axis"), rank); }
int kernel_axis(const KernelCtx& k, int rank) {
  int a = int(k.i("axis"));
  return a < 0 ? a + rank : a;
}
bool dims_match(const Dims& a, const Dims& b) {
  if (a.size() != b.size()) return false;
  for (size_t d = 0; d < a.size(); ++d)
    if (a[d] != b[d] && a[d] != -1 && b[d] != -1) return false;
  return true;
}

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

// ---- gather(x, indices, axis): out = x[:axis] + indices.shape + x[axis+1:] ----
Dims gathered_dims(const Dims& x, const Dims& idx, int axis) {
  Dims dims(x.begin(), x.begin() + axis);
  dims.insert(dims.end(), idx.begin(), idx.end());
  dims.insert(dims.end(), x.begin() + axis + 1, x.end());
  return dims;
}
std::vector<TensorType> infer_gather(InferCtx& c) {
  expect_indices(c, c.in[1]);
  if (!c.in[0].ranked || !c.in[1].ranked) return {unranked(c.in[0].dtype)};
  int axis = op_axis(c, int(c.in[0].dims.size()));
  return {ranked(gathered_dims(c.in[0].dims, c.in[1].dims, axis), c.in[0].dtype)};
}
void gather_kernel(KernelCtx& k) {
  const NDArray &x = k.in[0];
  int axis = kernel_axis(k, x.rank());
  cpu::AxisView v = cpu::axis_view(x.shape(), axis);
  std::vector<int64_t> idx = cpu::checked_indices(k.node, k.in[1], v.n, "axis " + std::to_string(axis));
  const size_t block = size_t(v.inner) * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.data());
  char* dst = static_cast<char*>(k.out[0].data());
  const int64_t m = int64_t(idx.size());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < m; ++j) std::memcpy(dst + (o * m + j) * block, src + (o * v.n + idx[j]) * block, block);
}
Grads g_gather(GradCtx& c) {
  return {c.op("scatter_add", {c.zeros_like(c.x[0]), c.x[1], c.dy[0]}, c.attrs()), Tensor()};
}

// ---- scatter_add(x, indices, updates, axis): x with updates added at indices ----
void scatter_add_kernel(KernelCtx& k) {
  const NDArray &x = k.in[0], &upd = k.in[2];
  int axis = kernel_axis(k, x.rank());
  cpu::AxisView v = cpu::axis_view(x.shape(), axis);
  std::vector<int64_t> idx = cpu::checked_indices(k.node, k.in[1], v.n, "axis " + std::to_string(axis));
  std::memcpy(k.out[0].data(), x.data(), x.nbytes());
  const size_t es = dtype_size(x.dtype());
  char* dst = static_cast<char*>(k.out[0].data());
  const char* src = static_cast<const char*>(upd.data());
  const int64_t m = int64_t(idx.size());
  for (int64_t o = 0; o < v.outer; ++o)
    for (int64_t j = 0; j < m; ++j)
      add_into(dst + (o * v.n + idx[j]) * v.inner * es, src + (o * m + j) * v.inner * es, v.inner, x.dtype());
}
Grads g_scatter_add(GradCtx& c) {
  return {c.dy[0], Tensor(), c.op("gather", {c.dy[0], c.x[1]}, c.attrs())};
}

// ---- gather_nd(x, indices): indices (..., k) pick slices x[i0, ..., ik-1] ----
std::vector<TensorType> infer_gather_nd(InferCtx& c) {
  expect_indices(c, c.in[1]);
  const TensorType &x = c.in[0], &idx = c.in[1];
  if (!x.ranked || !idx.ranked || (!idx.dims.empty() && idx.dims.back() < 0)) return {unranked(x.dtype)};
  if (idx.dims.empty() || idx.dims.back() > int64_t(x.dims.size()))
    c.fail("indices " + idx.str() + " must end in a known dimension of at most the rank of " + x.str());
  Dims dims(idx.dims.begin(), idx.dims.end() - 1);
  dims.insert(dims.end(), x.dims.begin() + idx.dims.back(), x.dims.end());
  return {ranked(dims, x.dtype)};
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
    std::vector<int64_t> at = cpu::checked_indices(k.node, column, x.shape()[d], "dimension " + std::to_string(d));
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
Grads g_gather_nd(GradCtx& c) { return {c.op("scatter_nd_add", {c.zeros_like(c.x[0]), c.x[1], c.dy[0]}), Tensor()}; }

void scatter_nd_add_kernel(KernelCtx& k) {
  int64_t slice = 0;
  std::vector<int64_t> offsets = nd_offsets(k, k.in[0], k.in[1], &slice);
  std::memcpy(k.out[0].data(), k.in[0].data(), k.in[0].nbytes());
  const size_t es = dtype_size(k.in[0].dtype());
  for (size_t i = 0; i < offsets.size(); ++i)
    add_into(static_cast<char*>(k.out[0].data()) + offsets[i] * es,
             static_cast<const char*>(k.in[2].data()) + i * slice * es, slice, k.in[0].dtype());
}
Grads g_scatter_nd_add(GradCtx& c) { return {c.dy[0], Tensor(), c.op("gather_nd", {c.dy[0], c.x[1]})}; }

// ---- take_along_axis(x, indices, axis) and its adjoint ----
std::vector<TensorType> infer_take_along(InferCtx& c) {
  expect_indices(c, c.in[1]);
  const TensorType &x = c.in[0], &idx = c.in[1];
  if (!x.ranked || !idx.ranked) return {unranked(x.dtype)};
  int axis = op_axis(c, int(x.dims.size()));
  Dims a = x.dims, b = idx.dims;
  if (a.size() == b.size()) a[axis] = b[axis] = -1;
  if (!dims_match(a, b)) c.fail("indices " + idx.str() + " must match " + x.str() + " except along axis " + std::to_string(axis));
  return {ranked(idx.dims, x.dtype)};
}
// Calls f(x_offset, other_offset) in elements for every element of `other`
// (shaped like the indices), after checking every index.
template <class F>
void along_axis(const KernelCtx& k, const NDArray& x, const NDArray& idx, F&& f) {
  int axis = kernel_axis(k, x.rank());
  cpu::AxisView vx = cpu::axis_view(x.shape(), axis), vi = cpu::axis_view(idx.shape(), axis);
  std::vector<int64_t> id = cpu::checked_indices(k.node, idx, vx.n, "axis " + std::to_string(axis));
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
Grads g_take_along(GradCtx& c) {
  return {c.op("scatter_add_along_axis", {c.zeros_like(c.x[0]), c.x[1], c.dy[0]}, c.attrs()), Tensor()};
}
void scatter_along_kernel(KernelCtx& k) {
  std::memcpy(k.out[0].data(), k.in[0].data(), k.in[0].nbytes());
  const size_t es = dtype_size(k.in[0].dtype());
  char* dst = static_cast<char*>(k.out[0].data());
  const char* src = static_cast<const char*>(k.in[2].data());
  along_axis(k, k.in[0], k.in[1], [&](int64_t xo, int64_t p) { add_into(dst + xo * es, src + p * es, 1, k.in[0].dtype()); });
}
Grads g_scatter_along(GradCtx& c) {
  return {c.dy[0], Tensor(), c.op("take_along_axis", {c.dy[0], c.x[1]}, c.attrs())};
}

// ---- one_hot(indices, depth, axis, dtype): out-of-range indices give zeros ----
std::vector<TensorType> infer_one_hot(InferCtx& c) {
  expect_indices(c, c.in[0]);
  DType dt = c.dt("dtype");
  int64_t depth = c.i("depth");
  if (depth < 0) c.fail("depth must be >= 0; got " + std::to_string(depth));
  if (!c.in[0].ranked) return {unranked(dt)};
  Dims dims = c.in[0].dims;
  int axis = normalize_axis(c, c.i("axis"), int(dims.size()) + 1);
  dims.insert(dims.begin() + axis, depth);
  return {ranked(dims, dt)};
}
void one_hot_kernel(KernelCtx& k) {
  NDArray& out = k.out[0];
  std::memset(out.data(), 0, out.nbytes());
  int axis = kernel_axis(k, out.rank());
  cpu::AxisView v = cpu::axis_view(out.shape(), axis);
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

// A scatter's updates must look exactly like what the matching gather of
// (x, indices) returns.
template <InferFn Gather>
std::vector<TensorType> infer_scatter(InferCtx& c) {
  InferCtx gc{c.node, {c.in[0], c.in[1]}};
  const TensorType want = Gather(gc)[0];
  const TensorType& upd = c.in[2];
  if (upd.dtype != c.in[0].dtype)
    c.fail<DTypeError>("updates have dtype " + std::string(dtype_name(upd.dtype)) + "; expected " + dtype_name(c.in[0].dtype));
  if (want.ranked && upd.ranked && !dims_match(want.dims, upd.dims))
    c.fail("updates have shape " + upd.str() + "; expected " + want.str());
  return {c.in[0]};
}

const bool registered = [] {
  register_op(make_op("gather", OpClass::Indexing, 2, infer_gather, gather_kernel, g_gather));
  register_op(make_op("scatter_add", OpClass::Indexing, 3, infer_scatter<infer_gather>, scatter_add_kernel, g_scatter_add));
  register_op(make_op("gather_nd", OpClass::Indexing, 2, infer_gather_nd, gather_nd_kernel, g_gather_nd));
  register_op(make_op("scatter_nd_add", OpClass::Indexing, 3, infer_scatter<infer_gather_nd>, scatter_nd_add_kernel, g_scatter_nd_add));
  register_op(make_op("take_along_axis", OpClass::Indexing, 2, infer_take_along, take_along_kernel, g_take_along));
  register_op(make_op("scatter_add_along_axis", OpClass::Indexing, 3, infer_scatter<infer_take_along>, scatter_along_kernel, g_scatter_along));
  register_op(make_op("one_hot", OpClass::Indexing, 1, infer_one_hot, one_hot_kernel, nullptr));
  return true;
}();

}  // namespace
}  // namespace ts
