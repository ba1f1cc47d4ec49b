// CUDA kernels of the indexing ops. Gathers run a thread per output
// element; scatters start from a copy of x and add each update atomically.
// Indices are checked as on the host: a bad one is reported through the
// stream's error record (the run then raises ShapeError) and its access is
// skipped.
#include "backends/cuda/op_kernels.h"

namespace ts::cuda {
namespace {

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

// Where element i (of the output of a gather, of the updates of a scatter)
// addresses x: statements that set `at`, and `ok` unless an index was bad.
struct Lookup {
  std::string statements;
  int64_t n = 0;            // how many elements i there are
  const char* what = "axis";  // what the indices address, for errors
};

// A gather reads x at each element's place (zero where an index was bad); a
// scatter starts from a copy of x and adds each update there.
OpSource gather_from(const KernelDesc& k, const Lookup& l) {
  return with_loop(l.n, l.statements + "    out0[i] = ok ? in0[at] : " + zero(k) + ";\n", l.what);
}
OpSource scatter_into(const KernelDesc& k, const Lookup& l) {
  return with_loop(l.n, l.statements + "    if (ok) " + atomic_add(k.outputs[0].dtype, "out0 + at", "in2[i]") + "\n",
                   l.what, true);
}

// gather / scatter_add along an axis: element i is (outer o, index j, inner
// r), and index j picks the place along the axis.
Lookup axis_lookup(const KernelDesc& k, int64_t n) {
  const int axis = axis_attr(k, int(k.inputs[0].type.dims.size()));
  const AxisView v = axis_view(k.inputs[0].type.dims, axis);
  const int64_t m = num_elements(k.inputs[1].type.dims);
  std::ostringstream s;
  s << "    const long long r = i % " << divisor(v.inner) << ", j = i / " << divisor(v.inner) << " % " << divisor(m) << ", o = i / "
    << divisor(v.inner * m) << ";\n";
  s << "    const long long x = TS_INDEX(in1[j], " << v.n << ", " << axis << ");\n";
  s << "    const bool ok = x >= 0;\n    const long long at = (o * " << v.n << "LL + x) * " << v.inner << "LL + r;\n";
  return {s.str(), n, "axis"};
}

// gather_nd / scatter_nd_add: index tuple q picks the slice at the sum of
// its checked indices times x's strides.
Lookup nd_lookup(const KernelDesc& k) {
  const Dims &x = k.inputs[0].type.dims, &idx = k.inputs[1].type.dims;
  const size_t depth = size_t(idx.back());
  const int64_t count = num_elements(Dims(idx.begin(), idx.end() - 1));
  const int64_t slice = num_elements(Dims(x.begin() + long(depth), x.end()));
  const Dims stride = strides_of(x);
  std::ostringstream s;
  s << "    const long long q = i / " << divisor(slice) << ", e = i % " << divisor(slice)
    << ";\n    long long at = e;\n    bool ok = true;\n";
  for (size_t d = 0; d < depth; ++d)
    s << "    { const long long x = TS_INDEX(in1[q * " << depth << "LL + " << d << "], " << x[d] << ", " << d
      << "); ok = ok && x >= 0; at += x * " << stride[d] << "LL; }\n";
  return {s.str(), count * slice, "dimension"};
}

// take_along_axis / scatter_add_along_axis: element i of the indices
// (outer, j, inner) addresses x at (outer, index, inner).
Lookup along_lookup(const KernelDesc& k) {
  const int axis = axis_attr(k, int(k.inputs[0].type.dims.size()));
  const AxisView vx = axis_view(k.inputs[0].type.dims, axis), vi = axis_view(k.inputs[1].type.dims, axis);
  std::ostringstream s;
  s << "    const long long r = i % " << divisor(vi.inner) << ", o = i / " << divisor(vi.inner * vi.n) << ";\n";
  s << "    const long long x = TS_INDEX(in1[i], " << vx.n << ", " << axis << ");\n";
  s << "    const bool ok = x >= 0;\n    const long long at = (o * " << vx.n << "LL + x) * " << vx.inner << "LL + r;\n";
  return {s.str(), num_elements(k.inputs[1].type.dims), "axis"};
}

OpSource gather(const KernelDesc& k) { return gather_from(k, axis_lookup(k, num_elements(k.outputs[0].dims))); }
OpSource scatter_add(const KernelDesc& k) { return scatter_into(k, axis_lookup(k, num_elements(k.inputs[2].type.dims))); }
OpSource gather_nd(const KernelDesc& k) { return gather_from(k, nd_lookup(k)); }
OpSource scatter_nd_add(const KernelDesc& k) { return scatter_into(k, nd_lookup(k)); }
OpSource take_along_axis(const KernelDesc& k) { return gather_from(k, along_lookup(k)); }
OpSource scatter_add_along_axis(const KernelDesc& k) { return scatter_into(k, along_lookup(k)); }

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
