#include "backends/cuda/codegen.h"

#include <sstream>

#include "ops/op_def.h"
#include "tensorstitch/error.h"

namespace ts::cuda {
namespace {

// The C type a dtype is stored as in device memory.
const char* storage(DType dt) {
  switch (dt) {
    case DType::Bool: return "bool";
    case DType::Int8: return "signed char";
    case DType::UInt8: return "unsigned char";
    case DType::Int32: return "int";
    case DType::Int64: return "long long";
    case DType::Float16:
    case DType::BFloat16: return "unsigned short";
    case DType::Float32: return "float";
    case DType::Float64: return "double";
  }
  return "void";
}

const char* register_type(DType compute) {
  return compute == DType::Float64 ? "double" : compute == DType::Int64 ? "long long" : "float";
}

// A stored value of dtype dt as a register of type C.
std::string load_expr(DType dt, const std::string& v, const char* c) {
  if (dt == DType::Float16) return std::string(c) + "(ts::f16_to_f32(" + v + "))";
  if (dt == DType::BFloat16) return std::string(c) + "(ts::bf16_to_f32(" + v + "))";
  return std::string(c) + "(" + v + ")";
}

// A register value converted as the host's convert<dt> does.
std::string store_expr(DType dt, const std::string& v, DType compute) {
  const bool from_float = compute != DType::Int64;
  switch (dt) {
    case DType::Bool: return "(" + v + " != 0)";
    case DType::Float16: return "ts::f32_to_f16(float(" + v + "))";
    case DType::BFloat16: return "ts::f32_to_bf16(float(" + v + "))";
    case DType::Float32: return "float(" + v + ")";
    case DType::Float64: return "double(" + v + ")";
    case DType::Int8: return from_float ? "ts::f2i<signed char>(" + v + ", -128, 127)" : "(signed char)(" + v + ")";
    case DType::UInt8: return from_float ? "ts::f2i<unsigned char>(" + v + ", 0, 255)" : "(unsigned char)(" + v + ")";
    case DType::Int32: return from_float ? "ts::f2i<int>(" + v + ", -2147483647 - 1, 2147483647)" : "(int)(" + v + ")";
    case DType::Int64:
      return from_float ? "ts::f2i<long long>(" + v + ", -9223372036854775807LL - 1, 9223372036854775807LL)" : v;
  }
  return v;
}

}  // namespace

std::string render(const KernelDesc& k, const std::string& name) {
  if (k.kind != KernelDesc::Kind::Elementwise)
    throw CompileError("CUDA code generation: only elementwise kernels are rendered so far; got " + k.ops.front());
  const char* c = "R";  // the register type, named once per kernel
  const Dims& space = k.space;
  std::ostringstream s;
  s << "extern \"C\" __global__ void " << name << "(";
  for (size_t j = 0; j < k.inputs.size(); ++j) s << "const " << storage(k.inputs[j].type.dtype) << "* __restrict__ in" << j << ", ";
  for (size_t o = 1; o < k.outputs.size(); ++o) s << storage(k.outputs[o].dtype) << "* __restrict__ out" << o << ", ";
  s << storage(k.outputs[0].dtype) << "* __restrict__ out) {\n";
  // Each thread takes kElementsPerThread elements a block apart: every load
  // instruction is coalesced across the warp, and the unrolled iterations'
  // loads are in flight together.
  s << "  #pragma unroll\n";
  s << "  for (int u = 0; u < " << kElementsPerThread << "; ++u) {\n";
  s << "  const long long i = ((long long)blockIdx.x * " << kElementsPerThread << " + u) * blockDim.x + threadIdx.x;\n";
  s << "  if (i >= " << num_elements(space) << "LL) break;\n";
  s << "  typedef " << register_type(k.compute) << " R;\n";
  s << "  R r[" << std::max(k.num_regs, 1) << "];\n";
  for (size_t j = 0; j < k.inputs.size(); ++j) {
    const KernelOperand& o = k.inputs[j];
    if (o.reg < 0) continue;
    // The input's element for output element i: NumPy broadcasting against
    // the iteration space, with the strides baked in.
    std::string index = "i";
    const int64_t n = num_elements(o.type.dims);
    if (n == 1) {
      index = "0";
    } else if (n != num_elements(space)) {
      std::ostringstream e;
      const size_t lead = space.size() - o.type.dims.size();
      int64_t stride = 1, inner = 1;
      e << "(0";
      for (size_t d = space.size(); d-- > 0;) {
        const bool present = d >= lead && o.type.dims[d - lead] != 1;
        if (present) e << " + (i / " << inner << "LL % " << space[d] << "LL) * " << stride << "LL";
        if (d >= lead) stride *= o.type.dims[d - lead];
        inner *= space[d];
      }
      e << ")";
      index = e.str();
    }
    s << "  r[" << o.reg << "] = " << load_expr(o.type.dtype, "in" + std::to_string(j) + "[" + index + "]", c) << ";\n";
  }
  for (const KernelStep& st : k.body) {
    s << "  r[" << st.dst << "] = " << c << "(ts::math::" << st.scalar << "::f(r[" << st.a << "]";
    if (st.arity > 1) s << ", r[" << st.b << "]";
    if (st.arity > 2) s << ", r[" << st.c << "]";
    s << "));\n";
    if (st.round) {
      const std::string v = "r[" + std::to_string(st.dst) + "]";
      const std::string stored = store_expr(st.round_to, v, k.compute);
      s << "  " << v << " = " << load_expr(st.round_to, stored, c) << ";\n";
    }
  }
  s << "  out[i] = " << store_expr(k.outputs[0].dtype, "r[" + std::to_string(k.value_reg) + "]", k.compute) << ";\n";
  for (size_t o = 1; o < k.outputs.size(); ++o)
    s << "  out" << o << "[i] = " << store_expr(k.outputs[o].dtype, "r[" + std::to_string(k.extra_regs[o - 1]) + "]", k.compute)
      << ";\n";
  s << "  }\n}\n";
  return s.str();
}

}  // namespace ts::cuda
