#include "backends/cuda/codegen.h"

#include <algorithm>
#include <array>
#include <sstream>
#include <vector>

#include "ops/op_def.h"
#include "tensorstitch/error.h"

namespace ts::cuda {

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

int row_threads(int64_t row) {
  // Sixteen elements a thread measured best on an H100 for rows of 8,192
  // (2 to 32 tried: within 10% of each other, 16 fastest).
  int threads = 32;
  while (threads < 1024 && int64_t(threads) * 16 < row) threads *= 2;
  return threads;
}

int block_threads(const KernelDesc& k) { return k.kind == KernelDesc::Kind::Row ? row_threads(k.row) : kThreads; }

const char* register_type(DType compute) {
  return compute == DType::Float64 ? "double" : compute == DType::Int64 ? "long long" : "float";
}

std::string load_expr(DType dt, const std::string& v, const char* c) {
  if (dt == DType::Float16) return std::string(c) + "(ts::f16_to_f32(" + v + "))";
  if (dt == DType::BFloat16) return std::string(c) + "(ts::bf16_to_f32(" + v + "))";
  return std::string(c) + "(" + v + ")";
}

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

namespace {

// The index of operand element for element `var` of `space` (NumPy
// broadcasting, strides baked in).
std::string index_expr(const Dims& dims, const Dims& space, const char* var) {
  const int64_t n = num_elements(dims);
  if (n == 1) return "0";
  if (n == num_elements(space)) return var;
  std::ostringstream e;
  const size_t lead = space.size() - dims.size();
  int64_t stride = 1, inner = 1;
  e << "(0";
  for (size_t d = space.size(); d-- > 0;) {
    const bool present = d >= lead && dims[d - lead] != 1;
    if (present) e << " + (" << var << " / " << inner << "LL % " << space[d] << "LL) * " << stride << "LL";
    if (d >= lead) stride *= dims[d - lead];
    inner *= space[d];
  }
  e << ")";
  return e.str();
}

// Loads the operands of one phase (element `var` of `space`) into registers.
void emit_loads(std::ostringstream& s, const KernelDesc& k, bool epilogue, const Dims& space, const char* var) {
  for (size_t j = 0; j < k.inputs.size(); ++j) {
    const KernelOperand& o = k.inputs[j];
    if (o.reg < 0 || o.epilogue != epilogue) continue;
    s << "    r[" << o.reg << "] = "
      << load_expr(o.type.dtype, "in" + std::to_string(j) + "[" + index_expr(o.type.dims, space, var) + "]", "R") << ";\n";
  }
}

// Step i's value: its scalar function of the given operands, rounded
// through its dtype (store, load back) where that is narrower.
std::string step_value(const KernelDesc& k, size_t i, const std::array<std::string, 3>& operand) {
  const KernelStep& st = k.body[i];
  std::string e = "R(ts::math::" + std::string(st.scalar) + "::f(" + operand[0];
  if (st.arity > 1) e += ", " + operand[1];
  if (st.arity > 2) e += ", " + operand[2];
  e += "))";
  return st.round ? load_expr(st.round_to, store_expr(st.round_to, e, k.compute), "R") : e;
}

std::string reg(int r) { return "r[" + std::to_string(r) + "]"; }

// Steps [begin, end) of the body on registers.
void emit_steps(std::ostringstream& s, const KernelDesc& k, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    const KernelStep& st = k.body[i];
    s << "    " << reg(st.dst) << " = " << step_value(k, i, {reg(st.a), reg(st.b), reg(st.c)}) << ";\n";
  }
}

void emit_signature(std::ostringstream& s, const KernelDesc& k, const std::string& name) {
  // The block size bounds the registers the compiler may use per thread.
  s << "extern \"C\" __global__ void __launch_bounds__(" << block_threads(k) << ") " << name << "(";
  for (size_t j = 0; j < k.inputs.size(); ++j) s << "const " << storage(k.inputs[j].type.dtype) << "* __restrict__ in" << j << ", ";
  for (size_t o = 1; o < k.outputs.size(); ++o) s << storage(k.outputs[o].dtype) << "* __restrict__ out" << o << ", ";
  s << storage(k.outputs[0].dtype) << "* __restrict__ out) {\n";
  s << "  typedef " << register_type(k.compute) << " R;\n";
}

// Whether every operand read element by element, and every output, is a
// 4-byte type laid out like the iteration space: then each thread moves
// four consecutive elements with one 16-byte load or store per array.
bool vectorizable(const KernelDesc& k) {
  const int64_t n = num_elements(k.space);
  auto four_bytes = [](DType t) { return t == DType::Float32 || t == DType::Int32; };
  for (const KernelOperand& o : k.inputs) {
    const int64_t m = num_elements(o.type.dims);
    if (o.reg >= 0 && m != 1 && (m != n || !four_bytes(o.type.dtype))) return false;
  }
  for (const TensorType& t : k.outputs)
    if (!four_bytes(t.dtype)) return false;
  return n % 4 == 0;
}

// The body for element `var`, loads and stores included.
void emit_element(std::ostringstream& s, const KernelDesc& k, const char* var) {
  s << "    R r[" << std::max(k.num_regs, 1) << "];\n";
  emit_loads(s, k, false, k.space, var);
  emit_steps(s, k, 0, k.body.size());
  s << "    out[" << var << "] = " << store_expr(k.outputs[0].dtype, "r[" + std::to_string(k.value_reg) + "]", k.compute)
    << ";\n";
  for (size_t o = 1; o < k.outputs.size(); ++o)
    s << "    out" << o << "[" << var << "] = "
      << store_expr(k.outputs[o].dtype, "r[" + std::to_string(k.extra_regs[o - 1]) + "]", k.compute) << ";\n";
}

// Four consecutive elements from 16-byte loads: component c of each loaded
// vector feeds the body for element 4q + c; results are gathered into
// vectors and stored 16 bytes at a time.
void emit_quad(std::ostringstream& s, const KernelDesc& k) {
  static const char* lane[] = {"x", "y", "z", "w"};
  auto vec = [](DType t) { return t == DType::Float32 ? "float4" : "int4"; };
  for (size_t j = 0; j < k.inputs.size(); ++j) {
    const KernelOperand& o = k.inputs[j];
    if (o.reg >= 0 && num_elements(o.type.dims) != 1)
      s << "    const " << vec(o.type.dtype) << " v" << j << " = reinterpret_cast<const " << vec(o.type.dtype) << "*>(in" << j
        << ")[q];\n";
  }
  for (size_t o = 0; o < k.outputs.size(); ++o) s << "    " << vec(k.outputs[o].dtype) << " w" << o << ";\n";
  for (int c = 0; c < 4; ++c) {
    s << "    {\n    R r[" << std::max(k.num_regs, 1) << "];\n";
    for (size_t j = 0; j < k.inputs.size(); ++j) {
      const KernelOperand& o = k.inputs[j];
      if (o.reg < 0) continue;
      const std::string v = num_elements(o.type.dims) == 1 ? "in" + std::to_string(j) + "[0]" : "v" + std::to_string(j) + "." + lane[c];
      s << "    r[" << o.reg << "] = " << load_expr(o.type.dtype, v, "R") << ";\n";
    }
    emit_steps(s, k, 0, k.body.size());
    for (size_t o = 0; o < k.outputs.size(); ++o) {
      const int reg = o == 0 ? k.value_reg : k.extra_regs[o - 1];
      s << "    w" << o << "." << lane[c] << " = " << store_expr(k.outputs[o].dtype, "r[" + std::to_string(reg) + "]", k.compute)
        << ";\n";
    }
    s << "    }\n";
  }
  for (size_t o = 0; o < k.outputs.size(); ++o)
    s << "    reinterpret_cast<" << vec(k.outputs[o].dtype) << "*>(out" << (o ? std::to_string(o) : "") << ")[q] = w" << o << ";\n";
}

// One thread per kElementsPerThread elements: four consecutive ones with
// 16-byte loads where the layout allows and the pointers are aligned, else
// four a block apart (each load instruction coalesced across the warp).
std::string render_elementwise(const KernelDesc& k, const std::string& name) {
  std::ostringstream s;
  emit_signature(s, k, name);
  const int64_t n = num_elements(k.space);
  if (vectorizable(k)) {
    s << "  const unsigned long long bits = 0";
    for (size_t j = 0; j < k.inputs.size(); ++j) s << " | (unsigned long long)in" << j;
    for (size_t o = 1; o < k.outputs.size(); ++o) s << " | (unsigned long long)out" << o;
    s << " | (unsigned long long)out;\n";
    s << "  const long long q = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n";
    s << "  if ((bits & 15) == 0) {\n    if (q >= " << n / 4 << "LL) return;\n";
    emit_quad(s, k);
    s << "    return;\n  }\n";
  }
  // Where 16-byte loads serve, this loop only runs for misaligned arrays
  // (rare): kept rolled, it costs NVRTC one copy of the body, not four.
  s << (vectorizable(k) ? "  #pragma unroll 1\n" : "  #pragma unroll\n");
  s << "  for (int u = 0; u < " << kElementsPerThread << "; ++u) {\n";
  s << "    const long long i = ((long long)blockIdx.x * " << kElementsPerThread << " + u) * blockDim.x + threadIdx.x;\n";
  s << "    if (i < " << n << "LL) {\n";  // not a break: see render_row
  emit_element(s, k, "i");
  s << "    }\n  }\n}\n";
  return s.str();
}

// A reduction's accumulation: its start value and how one more value `v`
// folds into `acc` (extrema propagate NaN through the `nan` flag).
struct Fold {
  Combiner how;
  bool extremum() const { return how == Combiner::Max || how == Combiner::Min; }
  const char* start() const {
    return how == Combiner::Max ? "-__int_as_float(0x7f800000)" : how == Combiner::Min ? "__int_as_float(0x7f800000)" : "0";
  }
  std::string add(const std::string& v) const {
    const char* pick = how == Combiner::Max ? ">" : "<";
    return extremum() ? "acc = " + v + " " + pick + " acc ? " + v + " : acc;" : "acc += " + v + ";";
  }
};

// Combines every thread's acc and nan across the block (warp shuffles,
// then shared memory); thread 0 ends with the finished value (the mean
// divided by `count`, NaN for extrema that saw one) in acc. Uses `slot` to
// name its shared arrays; all threads must reach it.
void emit_block_reduce(std::ostringstream& s, const Fold& f, int64_t count, const std::string& slot) {
  s << "  for (int off = 16; off > 0; off >>= 1) {\n";
  s << "    const R o = __shfl_down_sync(0xffffffffu, acc, off);\n    " << f.add("o") << "\n";
  s << "    nan = __any_sync(0xffffffffu, nan);\n  }\n";
  s << "  __shared__ R part" << slot << "[32];\n  __shared__ bool nan" << slot << "[32];\n";
  s << "  if ((threadIdx.x & 31) == 0) { part" << slot << "[threadIdx.x >> 5] = acc; nan" << slot
    << "[threadIdx.x >> 5] = nan; }\n";
  s << "  __syncthreads();\n";
  s << "  if (threadIdx.x == 0) {\n";
  s << "    for (int w = 1; w < (blockDim.x + 31) / 32; ++w) { const R o = part" << slot << "[w]; " << f.add("o")
    << " nan = nan || nan" << slot << "[w]; }\n";
  if (f.how == Combiner::Mean) s << "    acc = acc / R(" << count << ");\n";
  if (f.extremum()) s << "    if (nan) acc = R(__int_as_float(0x7fc00000));\n";
  s << "  }\n";
}

void emit_accumulate(std::ostringstream& s, const Fold& f, const std::string& v) {
  s << "    {\n      const R v = " << v << ";\n";
  if (f.extremum()) s << "      nan = nan || v != v;\n";
  s << "      " << f.add("v") << "\n    }\n";
}

// One block per output element: the threads stride over its row of the
// iteration space (the prologue per element), combine in registers, then
// across the block; thread 0 runs the epilogue and stores.
std::string render_reduce(const KernelDesc& k, const std::string& name) {
  const Fold f{k.reduce};
  std::ostringstream s;
  emit_signature(s, k, name);
  s << "  const long long row = blockIdx.x;\n";
  s << "  R acc = R(" << f.start() << ");\n  bool nan = false;\n";
  s << "  for (long long j = threadIdx.x; j < " << k.row << "LL; j += blockDim.x) {\n";
  s << "    const long long i = row * " << k.row << "LL + j;\n";
  s << "    R r[" << std::max(k.num_regs, 1) << "];\n";
  emit_loads(s, k, false, k.space, "i");
  emit_steps(s, k, 0, k.epilogue_step);
  emit_accumulate(s, f, "r[" + std::to_string(k.value_reg) + "]");
  s << "  }\n";
  emit_block_reduce(s, f, k.row, "0");
  s << "  if (threadIdx.x != 0) return;\n";
  if (k.reduced_reg < 0) {
    s << "  out[row] = " << store_expr(k.outputs[0].dtype, "acc", k.compute) << ";\n}\n";
    return s.str();
  }
  s << "  {\n    const long long i = row;\n    R r[" << std::max(k.num_regs, 1) << "];\n";
  s << "    r[" << k.reduced_reg << "] = acc;\n";
  emit_loads(s, k, true, k.outputs[0].dims, "i");
  emit_steps(s, k, k.epilogue_step, k.body.size());
  s << "    out[row] = " << store_expr(k.outputs[0].dtype, "r[" + std::to_string(k.result_reg) + "]", k.compute) << ";\n";
  s << "  }\n}\n";
  return s.str();
}

// Row kernels: one block per row. The body runs in segments closed by its
// row reductions; each segment recomputes the row's elementwise steps from
// the inputs (re-read from L2), folds the reduction across the block, and
// thread 0 computes the per-row values that follow from it into shared
// memory, which the later segments read.
std::string render_row(const KernelDesc& k, const std::string& name) {
  const size_t steps = k.body.size();
  // Per step: its operands as expressions (a register, or the shared slot
  // of the per-row value the register holds at that point).
  std::vector<std::array<std::string, 3>> operand(steps);
  std::vector<int> holder(size_t(std::max(k.num_regs, 1)), -1);  // register -> step whose per-row value it holds
  for (size_t i = 0; i < steps; ++i) {
    const KernelStep& st = k.body[i];
    const int regs[3] = {st.a, st.b, st.c};
    for (int a = 0; a < 3; ++a)
      if (regs[a] >= 0)
        operand[i][a] = holder[size_t(regs[a])] >= 0 ? "pr[" + std::to_string(holder[size_t(regs[a])]) + "]"
                                                      : "r[" + std::to_string(regs[a]) + "]";
    holder[size_t(st.dst)] = st.per_row || st.reduce != Combiner::None ? int(i) : -1;
  }
  const int value_holder = holder[size_t(k.value_reg)];
  const int64_t n = k.row;
  std::ostringstream s;
  emit_signature(s, k, name);
  s << "  const long long row = blockIdx.x;\n";
  s << "  __shared__ R pr[" << std::max<size_t>(steps, 1) << "];\n";
  // Rows that fit stay on chip: each thread keeps its elements of the
  // row-shaped inputs in registers (element threadIdx.x + m * threads
  // in slot m), so only the first pass reads them from memory.
  const int threads = row_threads(n);
  const int64_t per_thread = (n + threads - 1) / threads;
  const bool on_chip = per_thread <= kRowCachePerThread;
  std::vector<size_t> cached;
  for (size_t j = 0; j < k.inputs.size(); ++j)
    if (on_chip && k.inputs[j].reg >= 0 && num_elements(k.inputs[j].type.dims) == num_elements(k.space))
      cached.push_back(j);
  for (size_t j : cached) s << "  R c" << j << "[" << per_thread << "];\n";
  // Element steps that later passes use again (softmax's exp(x - max), say)
  // are kept too, computed once: a pass runs the steps before its
  // reduction, or all of them for the final one.
  std::vector<size_t> passes;
  for (size_t i = 0; i < steps; ++i)
    if (k.body[i].reduce != Combiner::None) passes.push_back(i);
  if (!k.row_result) passes.push_back(steps);
  std::vector<bool> keep(steps, false), kept(steps, false);
  for (size_t i = 0; i < steps && on_chip; ++i) {
    const KernelStep& st = k.body[i];
    size_t uses = 0;
    for (size_t upto : passes) uses += upto > i ? 1 : 0;
    keep[i] = !st.per_row && st.reduce == Combiner::None && uses >= 2;
    if (keep[i]) s << "  R k" << i << "[" << per_thread << "];\n";
  }
  bool first_pass = true;
  auto element_pass = [&](size_t upto, const std::string& tail) {
    // A guard around the body, not a break: the unrolled iterations' loads
    // can then all be in flight at once (a break orders each after the
    // previous one's use). Rows that the threads divide need none.
    const bool guard = on_chip && n % threads != 0;
    if (on_chip) {
      s << "  #pragma unroll\n  for (int m = 0; m < " << per_thread << "; ++m) {\n";
      s << "    const long long j = threadIdx.x + m * " << threads << "LL;\n";
      if (guard) s << "    if (j < " << n << "LL) {\n";
    } else {
      s << "  for (long long j = threadIdx.x; j < " << n << "LL; j += blockDim.x) {\n";
    }
    s << "    const long long i = row * " << n << "LL + j;\n";
    s << "    R r[" << std::max(k.num_regs, 1) << "];\n";
    for (size_t j = 0; j < k.inputs.size(); ++j) {
      const KernelOperand& o = k.inputs[j];
      if (o.reg < 0) continue;
      const bool from_cache = std::find(cached.begin(), cached.end(), j) != cached.end();
      const std::string load = load_expr(o.type.dtype, "in" + std::to_string(j) + "[" + index_expr(o.type.dims, k.space, "i") + "]", "R");
      if (!from_cache) s << "    r[" << o.reg << "] = " << load << ";\n";
      else if (first_pass) s << "    c" << j << "[m] = " << load << ";\n    r[" << o.reg << "] = c" << j << "[m];\n";
      else s << "    r[" << o.reg << "] = c" << j << "[m];\n";
    }
    first_pass = false;
    std::vector<size_t> computed;
    for (size_t i = 0; i < upto; ++i) {
      const KernelStep& st = k.body[i];
      if (st.per_row || st.reduce != Combiner::None) continue;  // read from pr[]
      if (kept[i]) {
        s << "    r[" << st.dst << "] = k" << i << "[m];\n";
        continue;
      }
      s << "    r[" << st.dst << "] = " << step_value(k, i, operand[i]) << ";\n";
      if (keep[i]) {
        s << "    k" << i << "[m] = r[" << st.dst << "];\n";
        computed.push_back(i);
      }
    }
    for (size_t i : computed) kept[i] = true;
    s << tail << (guard ? "    }\n" : "") << "  }\n";
  };
  size_t begin = 0;
  int segment = 0;
  while (true) {
    size_t end = begin;
    while (end < steps && k.body[end].reduce == Combiner::None) ++end;
    // The per-row values of this segment, by thread 0, from those before.
    bool any = false;
    for (size_t i = begin; i < end; ++i) any = any || k.body[i].per_row;
    if (any) {
      s << "  if (threadIdx.x == 0) {\n    const long long i = row * " << n << "LL;\n    R r[" << std::max(k.num_regs, 1)
        << "];\n";
      emit_loads(s, k, false, k.space, "i");
      for (size_t i = begin; i < end; ++i)
        if (k.body[i].per_row) s << "    pr[" << i << "] = " << step_value(k, i, operand[i]) << ";\n";
      s << "  }\n  __syncthreads();\n";
    }
    if (end == steps) break;
    const Fold f{k.body[end].reduce};
    s << "  {\n  R acc = R(" << f.start() << ");\n  bool nan = false;\n";
    std::ostringstream tail;
    emit_accumulate(tail, f, operand[end][0]);
    element_pass(end, tail.str());
    emit_block_reduce(s, f, n, std::to_string(segment));
    s << "  if (threadIdx.x == 0) pr[" << end << "] = acc;\n  __syncthreads();\n  }\n";
    begin = end + 1;
    ++segment;
  }
  if (k.row_result) {
    const std::string v = value_holder >= 0 ? "pr[" + std::to_string(value_holder) + "]" : "r[0]";
    s << "  if (threadIdx.x == 0) out[row] = " << store_expr(k.outputs[0].dtype, v, k.compute) << ";\n}\n";
    return s.str();
  }
  element_pass(steps, "    out[i] = " + store_expr(k.outputs[0].dtype, "r[" + std::to_string(k.value_reg) + "]", k.compute) +
                          ";\n");
  s << "}\n";
  return s.str();
}

}  // namespace

std::string render(const KernelDesc& k, const std::string& name) {
  if (k.kind == KernelDesc::Kind::Elementwise) return render_elementwise(k, name);
  if (k.kind == KernelDesc::Kind::Reduce) return render_reduce(k, name);
  if (k.kind == KernelDesc::Kind::Row && k.extra_regs.empty()) return render_row(k, name);
  throw CompileError("CUDA code generation: '" + k.ops.front() + "': this kind of kernel is not rendered yet");
}

}  // namespace ts::cuda
