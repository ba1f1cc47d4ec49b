// CUDA kernels of the reductions over any axes (the fused trailing-axis
// case is codegen's Reduce kernel), sum_to_like, argmax/argmin, softmax and
// log_softmax along an axis, and cumsum. Floats accumulate in double and
// integers in int64, as on the host.
#include <limits>

#include "backends/cuda/op_kernels.h"
#include "ops/infer_util.h"

namespace ts::cuda {
namespace {

// Threads for a block that loops over n elements: a multiple of 32.
int64_t threads_for(int64_t n) {
  int64_t t = 32;
  while (t < kThreads && t < n) t *= 2;
  return t;
}

// The start value of a reduction of dtype dt (extrema of an empty set: the
// identity of the input type, as on the host).
std::string identity(Combiner how, DType dt) {
  if (how == Combiner::Prod) return "1";
  if (how != Combiner::Max && how != Combiner::Min) return "0";
  const bool mx = how == Combiner::Max;
  if (is_floating(dt)) return mx ? "-__longlong_as_double(0x7ff0000000000000LL)" : "__longlong_as_double(0x7ff0000000000000LL)";
  switch (dt) {
    case DType::Bool: return mx ? "0" : "1";
    case DType::Int8: return mx ? "-128" : "127";
    case DType::UInt8: return mx ? "0" : "255";
    case DType::Int32: return mx ? "(-2147483647LL - 1)" : "2147483647LL";
    default: return mx ? "(-9223372036854775807LL - 1)" : "9223372036854775807LL";
  }
}

std::string combine(Combiner how) {
  switch (how) {
    case Combiner::Prod: return "[](A a, A b) { return ts::math::wrap_mul(a, b); }";
    case Combiner::Max: return "[](A a, A b) { return ts::nan_max(a, b); }";
    case Combiner::Min: return "[](A a, A b) { return ts::nan_min(a, b); }";
    default: return "[](A a, A b) { return ts::math::wrap_add(a, b); }";
  }
}

// Reduces x over `axes`: a block per output element when there are few
// outputs (its threads share the reduced elements), else a thread per
// output.
OpSource reduce_axes(const KernelDesc& k, const std::vector<int>& axes, Combiner how) {
  const TensorType& x = k.inputs[0].type;
  const DType out = k.outputs[0].dtype, acc = accumulator(x.dtype);
  const Dims stride = strides_of(x.dims);
  Dims kept, kept_stride, red, red_stride;
  for (int d = 0; d < int(x.dims.size()); ++d) {
    const bool r = std::find(axes.begin(), axes.end(), d) != axes.end();
    (r ? red : kept).push_back(x.dims[size_t(d)]);
    (r ? red_stride : kept_stride).push_back(stride[size_t(d)]);
  }
  const int64_t outputs = num_elements(kept), count = num_elements(red);
  auto offset = [](const Dims& strides, const std::string& prefix) {
    std::string e = "0";
    for (size_t d = 0; d < strides.size(); ++d) e += " + " + prefix + std::to_string(d) + " * " + std::to_string(strides[d]) + "LL";
    return e;
  };
  const bool per_block = outputs < 2048;
  OpSource src;
  std::ostringstream s;
  s << "  typedef " << register_type(acc) << " A;\n";
  if (per_block) {
    src.blocks = outputs;
    src.threads = threads_for(count);
    s << "  const long long i = blockIdx.x;\n";
  } else {
    src.blocks = blocks_for(outputs);
    s << "  " << grid_loop("i", outputs) << " {\n";
  }
  s << coords(kept, "i", "k") << "    const long long base = " << offset(kept_stride, "k") << ";\n";
  s << "    A acc = A(" << identity(how, x.dtype) << ");\n";
  s << "    const auto f = " << combine(how) << ";\n";
  s << "    for (long long j = " << (per_block ? "threadIdx.x" : "0") << "; j < " << count << "LL; j += "
    << (per_block ? "blockDim.x" : "1") << ") {\n";
  s << coords(red, "j", "r");
  s << "      acc = f(acc, " << load_expr(x.dtype, "in0[base + " + offset(red_stride, "r") + "]", "A") << ");\n    }\n";
  if (per_block) s << "    acc = ts::block_reduce(acc, f);\n    if (threadIdx.x == 0)";
  if (how == Combiner::Mean)
    s << "    out0[i] = " << store_expr(out, "double(acc) / double(" + std::to_string(count) + ")", DType::Float64) << ";\n";
  else
    s << "    out0[i] = " << store_expr(out, "acc", acc) << ";\n";
  if (!per_block) s << "  }\n";
  src.body = s.str();
  return src;
}

template <Combiner How>
OpSource reduce(const KernelDesc& k) {
  const TensorType& x = k.inputs[0].type;
  InferCtx c{*k.node, {x}};
  return reduce_axes(k, reduced_axes(c, int(x.dims.size())), How);
}

OpSource sum_to_like(const KernelDesc& k) {
  const Dims &xs = k.inputs[0].type.dims, &ls = k.outputs[0].dims;
  const size_t lead = xs.size() - ls.size();
  std::vector<int> axes;
  for (size_t d = 0; d < xs.size(); ++d)
    if (d < lead || (ls[d - lead] == 1 && xs[d] != 1)) axes.push_back(int(d));
  return reduce_axes(k, axes, Combiner::Sum);
}

// The lines along the op's axis; no axis attribute: the whole array (when
// `flatten_without_axis`) or the last axis.
AxisView line_of(const KernelDesc& k, bool flatten_without_axis) {
  const Dims& dims = k.inputs[0].type.dims;
  if (flatten_without_axis && !k.node->attrs.count("axis")) {
    AxisView whole;
    whole.n = num_elements(dims);
    return whole;
  }
  return axis_view(dims, axis_attr(k, int(dims.size())));
}

// The first extremum of each line; the first NaN wins.
template <bool kMax>
OpSource arg_reduce(const KernelDesc& k) {
  const AxisView l = line_of(k, true);
  const DType dt = k.inputs[0].type.dtype;
  OpSource src;
  src.blocks = blocks_for(l.outer * l.inner);
  std::ostringstream s;
  s << "  typedef " << register_type(compute_of(dt)) << " R;\n";
  s << "  " << grid_loop("q", l.outer * l.inner) << " {\n";
  if (l.n == 0) {  // nothing to compare: index 0, as on the host
    src.body = s.str() + "    out0[q] = 0;\n  }\n";
    return src;
  }
  s << "    const long long base = " << line_start(l, "q") << ";\n    long long best = 0;\n";
  s << "    R bv = " << load_expr(dt, "in0[base]", "R") << ";\n";
  s << "    for (long long j = 1; j < " << l.n << "LL && bv == bv; ++j) {\n";
  s << "      const R v = " << load_expr(dt, "in0[base + j * " + std::to_string(l.inner) + "LL]", "R") << ";\n";
  s << "      if (v != v || v " << (kMax ? ">" : "<") << " bv) { bv = v; best = j; }\n    }\n";
  s << "    out0[q] = best;\n  }\n";
  src.body = s.str();
  return src;
}

// A block per line: its max, the sum of exponentials, then the results.
template <bool kLog>
OpSource softmax(const KernelDesc& k) {
  const AxisView l = line_of(k, false);
  const DType dt = k.inputs[0].type.dtype, compute = compute_of(dt);
  OpSource src;
  src.blocks = l.outer * l.inner;
  src.threads = threads_for(l.n);
  std::ostringstream s;
  s << "  typedef " << register_type(compute) << " C;\n";
  s << "  const long long q = blockIdx.x, base = " << line_start(l, "q") << ";\n";
  const std::string x = load_expr(dt, "in0[base + j * " + std::to_string(l.inner) + "LL]", "C");
  const std::string loop = "  for (long long j = threadIdx.x; j < " + std::to_string(l.n) + "LL; j += blockDim.x)";
  s << "  C m = -C(ts::sm::inf_f32());\n" << loop << " m = ts::nan_max(m, " << x << ");\n";
  s << "  m = ts::block_reduce(m, [](C a, C b) { return ts::nan_max(a, b); });\n";
  s << "  if (m == -C(ts::sm::inf_f32())) m = C(0);  // an all -inf line gives NaN, not -inf - -inf\n";
  s << "  C sum = C(0);\n" << loop << " sum += ts::math::fexp(" << x << " - m);\n";
  s << "  sum = ts::block_reduce(sum, [](C a, C b) { return a + b; });\n";
  const std::string y = kLog ? "(" + x + " - m) - ls" : "ts::math::fexp(" + x + " - m) * inv";
  s << "  const C " << (kLog ? "ls = ts::math::flog(sum)" : "inv = C(1) / sum") << ";\n";
  s << loop << " out0[base + j * " << l.inner << "LL] = " << store_expr(dt, y, compute) << ";\n";
  src.body = s.str();
  return src;
}

// A thread per line, in order along the axis.
OpSource cumsum(const KernelDesc& k) {
  const AxisView l = line_of(k, false);
  const DType in = k.inputs[0].type.dtype, out = k.outputs[0].dtype, acc = accumulator(out);
  const bool exclusive = k.node->attrs.count("exclusive") && attr_int(*k.node, "exclusive");
  const bool reverse = k.node->attrs.count("reverse") && attr_int(*k.node, "reverse");
  OpSource src;
  src.blocks = blocks_for(l.outer * l.inner);
  std::ostringstream s;
  s << "  typedef " << register_type(acc) << " A;\n";
  s << "  " << grid_loop("q", l.outer * l.inner) << " {\n";
  s << "    const long long base = " << line_start(l, "q") << ";\n    A sum = A(0);\n";
  s << "    for (long long j = 0; j < " << l.n << "LL; ++j) {\n";
  s << "      const long long at = base + " << (reverse ? "(" + std::to_string(l.n - 1) + "LL - j)" : "j") << " * " << l.inner
    << "LL;\n";
  s << "      const A v = " << load_expr(in, "in0[at]", "A") << ";\n";
  if (!exclusive) s << "      sum = ts::math::wrap_add(sum, v);\n";
  s << "      out0[at] = " << store_expr(out, "sum", acc) << ";\n";
  if (exclusive) s << "      sum = ts::math::wrap_add(sum, v);\n";
  s << "    }\n  }\n";
  src.body = s.str();
  return src;
}

TS_CUDA_KERNEL("reduce_sum", reduce<Combiner::Sum>);
TS_CUDA_KERNEL("reduce_mean", reduce<Combiner::Mean>);
TS_CUDA_KERNEL("reduce_max", reduce<Combiner::Max>);
TS_CUDA_KERNEL("reduce_min", reduce<Combiner::Min>);
TS_CUDA_KERNEL("reduce_prod", reduce<Combiner::Prod>);
TS_CUDA_KERNEL("sum_to_like", sum_to_like);
TS_CUDA_KERNEL("argmax", arg_reduce<true>);
TS_CUDA_KERNEL("argmin", arg_reduce<false>);
TS_CUDA_KERNEL("softmax", softmax<false>);
TS_CUDA_KERNEL("log_softmax", softmax<true>);
TS_CUDA_KERNEL("cumsum", cumsum);

}  // namespace
}  // namespace ts::cuda
