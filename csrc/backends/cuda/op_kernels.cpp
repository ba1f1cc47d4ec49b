#include "backends/cuda/op_kernels.h"

#include <cstring>
#include <map>

#include "tensorstitch/error.h"

namespace ts::cuda {
namespace {

std::map<std::string, OpRenderer>& table() {
  static std::map<std::string, OpRenderer> kernels;
  return kernels;
}

}  // namespace

bool register_op_kernel(const char* op, OpRenderer render) {
  table()[op] = render;
  return true;
}

OpRenderer find_op_kernel(const std::string& op) {
  auto it = table().find(op);
  return it == table().end() ? nullptr : it->second;
}

std::vector<std::string> op_kernel_names() {
  std::vector<std::string> names;
  for (const auto& kv : table()) names.push_back(kv.first);
  return names;
}

std::string render_op(const KernelDesc& k, const std::string& name, OpSource* out) {
  const OpRenderer render = find_op_kernel(k.node->type);
  if (!render) throw CompileError(detail::describe(*k.node) + ": the CUDA backend has no kernel for this op");
  *out = render(k);
  std::ostringstream s;
  s << "extern \"C\" __global__ void __launch_bounds__(" << out->threads << ") " << name
    << "(const long long* __restrict__ table, long long* err, long long tag, unsigned long long run, char* ws";
  for (size_t j = 0; j < k.inputs.size(); ++j)
    s << ", const " << storage(k.inputs[j].type.dtype) << "* __restrict__ in" << j;
  for (size_t o = 0; o < k.outputs.size(); ++o) s << ", " << storage(k.outputs[o].dtype) << "* __restrict__ out" << o;
  s << ") {\n";
  s << "#define TS_INDEX(v, n, dim) ts::checked_index((long long)(v), (long long)(n), (long long)(dim), err, tag)\n";
  s << out->body << "}\n#undef TS_INDEX\n";
  return s.str();
}

KernelDesc matmul_product(const KernelDesc& k) {
  KernelDesc product;
  product.node = k.node;
  product.inputs.assign(k.inputs.begin(), k.inputs.begin() + 2);
  product.value_read = {true, true};
  product.outputs = {k.inputs[size_t(k.contraction_input)].type};
  product.ops = {k.node->type};
  product.allow_tf32 = k.allow_tf32;
  return product;
}

KernelDesc matmul_epilogue(const KernelDesc& k) {
  KernelDesc epilogue = k;
  epilogue.kind = KernelDesc::Kind::Elementwise;
  return epilogue;
}

std::string render_step(const KernelDesc& k, const std::string& name) {
  OpSource launch;
  if (k.kind == KernelDesc::Kind::Op) return render_op(k, name, &launch);
  if (k.kind != KernelDesc::Kind::Matmul) return render(k, name);
  return render_op(matmul_product(k), name + "_product", &launch) + "\n" + render(matmul_epilogue(k), name);
}

Dims strides_of(const Dims& dims) {
  Dims s(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;) s[d - 1] = s[d] * dims[d];
  return s;
}

int64_t blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return b < (int64_t(1) << 20) ? b : int64_t(1) << 20;
}

std::string grid_loop(const char* var, int64_t n) {
  return "for (long long " + std::string(var) + " = (long long)blockIdx.x * blockDim.x + threadIdx.x; " + var + " < " +
         std::to_string(n) + "LL; " + var + " += (long long)gridDim.x * blockDim.x)";
}

std::string divisor(int64_t v) { return std::to_string(v > 0 ? v : 1) + "LL"; }

std::string coords(const Dims& dims, const std::string& var, const std::string& prefix) {
  // Below 2^31 elements the splitting runs in 32 bits: a division by a
  // constant is a multiply and shift there, several instructions in 64.
  const bool narrow = num_elements(dims) < (int64_t(1) << 31);
  const std::string suffix = narrow ? "u" : "LL";
  std::ostringstream s;
  s << "    " << (narrow ? "unsigned int" : "long long") << " rem_" << prefix << " = " << var << ";\n";
  for (size_t d = dims.size(); d-- > 0;) {
    const std::string by = std::to_string(dims[d] > 0 ? dims[d] : 1) + suffix;
    s << "    const long long " << prefix << d << " = rem_" << prefix << " % " << by << "; rem_" << prefix << " /= " << by
      << ";\n";
  }
  s << "    (void)rem_" << prefix << ";\n";
  return s.str();
}

DType accumulator(DType dt) { return is_floating(dt) ? DType::Float64 : DType::Int64; }

DType compute_of(DType dt) { return dt == DType::Float64 ? dt : is_floating(dt) ? DType::Float32 : DType::Int64; }

AxisView axis_view(const Dims& dims, int axis) {
  AxisView v;
  for (int d = 0; d < int(dims.size()); ++d) {
    if (d < axis) v.outer *= dims[size_t(d)];
    else if (d == axis) v.n = dims[size_t(d)];
    else v.inner *= dims[size_t(d)];
  }
  return v;
}

std::string line_start(const AxisView& v, const std::string& var) {
  return var + " / " + divisor(v.inner) + " * " + std::to_string(v.n * v.inner) + "LL + " + var + " % " + divisor(v.inner);
}

int axis_attr(const KernelDesc& k, int rank) {
  const int a = k.node->attrs.count("axis") ? int(attr_int(*k.node, "axis")) : -1;
  return a < 0 ? a + rank : a;
}

std::string literal(DType dt, double v) {
  long long bits;
  std::memcpy(&bits, &v, sizeof bits);
  return store_expr(dt, "__longlong_as_double(" + std::to_string(bits) + "LL)", DType::Float64);
}

}  // namespace ts::cuda
