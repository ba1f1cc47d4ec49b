// CUDA kernels of the indexing ops. Gathers run a thread per output
// element; scatters start from a copy of x and add each update atomically.
// Indices are checked as on the host: a bad one is reported through the
// stream's error record (the run then raises ShapeError) and its access is
// skipped.
#include "backends/cuda/op_kernels.h"

namespace ts::cuda {
namespace {

// outer x n x inner around an axis.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisView axis_view(const Dims& dims, int axis) {
  AxisView v;
  for (int d = 0; d < int(dims.size()); ++d) {
    if (d < axis) v.outer *= dims[size_t(d)];
    else if (d == axis) v.n = dims[size_t(d)];
    else v.inner *= dims[size_t(d)];
  }
  return v;
}

// Adds stored value `v` (of dtype dt) into *p atomically.
std::string atomic_add(DType dt, const std::string& p, const std::string& v) {
  if (dt == DType::Float16) return "ts::atomic_add_f16(" + p + ", ts::f16_to_f32(" + v + "));";
  if (dt == DType::BFloat16) return "ts::atomic_add_bf16(" + p + ", ts::bf16_to_f32(" + v + "));";
  return "ts::atomic_add(" + p + ", " + v + ");";
}

OpSource with_loop(int64_t n, const std::string& body, const char* what, bool copy_first = false) {
  OpSource src;
  src.blocks = blocks_for(n);
  src.body = "  " + grid_loop("i", n) + " {\n" + body + "  }\n";
  src.index_what = what;
  src.copy_first = copy_first;
  return src;
}

std::string zero(const KernelDesc& k) { return literal(k.outputs[0].dtype, 0); }

// gather / scatter_add along an axis: element i of the output (gather) or
// of the updates (scatter) is (outer o, index j, inner r); x is its checked
// index along the axis, `at` where it addresses x (when x >= 0).
std::string axis_lookup(const KernelDesc& k) {
  const int axis = axis_attr(k, int(k.inputs[0].type.dims.size()));
  const AxisView v = axis_view(k.inputs[0].type.dims, axis);
  const int64_t m = num_elements(k.inputs[1].type.dims);
  std::ostringstream s;
  s << "    const long long r = i % " << divisor(v.inner) << ", j = i / " << divisor(v.inner) << " % " << divisor(m) << ", o = i / "
    << divisor(v.inner * m) << ";\n";
  s << "    const long long x = TS_INDEX(in1[j], " << v.n << ", " << axis << ");\n";
  s << "    const long long at = (o * " << v.n << "LL + x) * " << v.inner << "LL + r;\n";
  return s.str();
}

OpSource gather(const KernelDesc& k) {
  return with_loop(num_elements(k.outputs[0].dims), axis_lookup(k) + "    out0[i] = x < 0 ? " + zero(k) + " : in0[at];\n",
                   "axis");
}

OpSource scatter_add(const KernelDesc& k) {
  return with_loop(num_elements(k.inputs[2].type.dims),
                   axis_lookup(k) + "    if (x >= 0) " + atomic_add(k.outputs[0].dtype, "out0 + at", "in2[i]") + "\n", "axis",
                   true);
}

// gather_nd / scatter_nd_add: index tuple q picks the slice at the sum of
// its checked indices times x's strides.
std::string nd_offset(const KernelDesc& k, int64_t* count, int64_t* slice) {
  const Dims &x = k.inputs[0].type.dims, &idx = k.inputs[1].type.dims;
  const size_t depth = size_t(idx.back());
  *count = num_elements(Dims(idx.begin(), idx.end() - 1));
  *slice = num_elements(Dims(x.begin() + long(depth), x.end()));
  const Dims stride = strides_of(x);
  std::ostringstream s;
  s << "    const long long q = i / " << divisor(*slice) << ", e = i % " << divisor(*slice) << ";\n    long long at = e;\n    bool bad = false;\n";
  for (size_t d = 0; d < depth; ++d)
    s << "    { const long long x = TS_INDEX(in1[q * " << depth << "LL + " << d << "], " << x[d] << ", " << d
      << "); bad = bad || x < 0; at += x * " << stride[d] << "LL; }\n";
  return s.str();
}

OpSource gather_nd(const KernelDesc& k) {
  int64_t count = 0, slice = 0;
  std::string s = nd_offset(k, &count, &slice);
  s += "    out0[i] = bad ? " + zero(k) + " : in0[at];\n";
  return with_loop(count * slice, s, "dimension");
}

OpSource scatter_nd_add(const KernelDesc& k) {
  int64_t count = 0, slice = 0;
  std::string s = nd_offset(k, &count, &slice);
  s += "    if (!bad) " + atomic_add(k.outputs[0].dtype, "out0 + at", "in2[i]") + "\n";
  return with_loop(count * slice, s, "dimension", true);
}

// take_along_axis / scatter_add_along_axis: element i of the indices
// (outer, j, inner) addresses x at (outer, index, inner).
std::string along_offset(const KernelDesc& k) {
  const int axis = axis_attr(k, int(k.inputs[0].type.dims.size()));
  const AxisView vx = axis_view(k.inputs[0].type.dims, axis), vi = axis_view(k.inputs[1].type.dims, axis);
  std::ostringstream s;
  s << "    const long long r = i % " << divisor(vi.inner) << ", o = i / " << divisor(vi.inner * vi.n) << ";\n";
  s << "    const long long x = TS_INDEX(in1[i], " << vx.n << ", " << axis << ");\n";
  s << "    const long long at = (o * " << vx.n << "LL + x) * " << vx.inner << "LL + r;\n";
  return s.str();
}

OpSource take_along_axis(const KernelDesc& k) {
  return with_loop(num_elements(k.outputs[0].dims), along_offset(k) + "    out0[i] = x < 0 ? " + zero(k) + " : in0[at];\n",
                   "axis");
}

OpSource scatter_add_along_axis(const KernelDesc& k) {
  return with_loop(num_elements(k.inputs[1].type.dims),
                   along_offset(k) + "    if (x >= 0) " + atomic_add(k.outputs[0].dtype, "out0 + at", "in2[i]") + "\n",
                   "axis", true);
}

// Indices outside [0, depth) give a row of zeros, as on the host.
OpSource one_hot(const KernelDesc& k) {
  const Dims& out = k.outputs[0].dims;
  const AxisView v = axis_view(out, axis_attr(k, int(out.size())));
  std::ostringstream s;
  s << "    const long long r = i % " << divisor(v.inner) << ", c = i / " << divisor(v.inner) << " % " << divisor(v.n) << ", o = i / "
    << divisor(v.inner * v.n) << ";\n";
  s << "    out0[i] = (long long)in0[o * " << v.inner << "LL + r] == c ? " << literal(k.outputs[0].dtype, 1) << " : "
    << zero(k) << ";\n";
  return with_loop(num_elements(out), s.str(), nullptr);
}

TS_CUDA_KERNEL("gather", gather);
TS_CUDA_KERNEL("scatter_add", scatter_add);
TS_CUDA_KERNEL("gather_nd", gather_nd);
TS_CUDA_KERNEL("scatter_nd_add", scatter_nd_add);
TS_CUDA_KERNEL("take_along_axis", take_along_axis);
TS_CUDA_KERNEL("scatter_add_along_axis", scatter_add_along_axis);
TS_CUDA_KERNEL("one_hot", one_hot);

}  // namespace
}  // namespace ts::cuda
