// CUDA kernels of the data-movement ops. Slice, pad, tile, flip, transpose
// and the broadcasts are one gather: each output element sums per-dimension
// offsets, from a table (the index maps; -1 reads the fill value) or linear
// in the coordinate (transpose, broadcasts).
// movement_grad gathers the same maps backwards, without atomics; concat and
// split pick their part by the coordinate along the axis.
#include "backends/cuda/op_kernels.h"
#include "ops/infer_util.h"
#include "ops/movement_maps.h"
#include "tensorstitch/error.h"

namespace ts::cuda {
namespace {

// How output coordinate d addresses the input: through a table (index maps,
// -1 for the fill value), or as coordinate * stride when it is linear.
struct DimMap {
  std::vector<int64_t> table;
  int64_t stride = 0;
};

// out[i] = in0[sum over d of DimMap d at coordinate d], or `fill` where a
// table says -1.
OpSource gather_dims(const KernelDesc& k, const std::vector<DimMap>& dims, double fill) {
  OpSource src;
  const Dims& out = k.outputs[0].dims;
  const int64_t n = num_elements(out);
  src.blocks = blocks_for(n);
  std::ostringstream s;
  s << "  " << grid_loop("i", n) << " {\n" << coords(out, "i", "c");
  s << "    long long at = 0;\n    bool outside = false;\n";
  bool may_fill = false;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d].table.empty()) {
      if (dims[d].stride) s << "    at += c" << d << " * " << dims[d].stride << "LL;\n";
      continue;
    }
    s << "    { const long long t = table[" << src.table.size() << "LL + c" << d << "]; at += t; outside = outside || t < 0; }\n";
    src.table.insert(src.table.end(), dims[d].table.begin(), dims[d].table.end());
    may_fill = true;
  }
  if (may_fill) s << "    out0[i] = outside ? " << literal(k.outputs[0].dtype, fill) << " : in0[at];\n";
  else s << "    (void)outside;\n    out0[i] = in0[at];\n";
  s << "  }\n";
  src.body = s.str();
  return src;
}

OpSource map_gather(const KernelDesc& k) {
  InferCtx c{*k.node, {}};
  const Dims &in = k.inputs[0].type.dims, &out = k.outputs[0].dims;
  const IndexMaps maps = movement_maps(c, k.node->type, in, out);
  const Dims stride = strides_of(in);
  std::vector<DimMap> dims(out.size());
  for (size_t d = 0; d < out.size(); ++d)
    for (int64_t m : maps[d]) dims[d].table.push_back(m < 0 ? -1 : m * stride[d]);
  return gather_dims(k, dims, k.node->attrs.count("value") ? attr_float(*k.node, "value") : 0.0);
}

OpSource transpose(const KernelDesc& k) {
  const Dims& in = k.inputs[0].type.dims;
  InferCtx c{*k.node, {ranked(in, k.inputs[0].type.dtype)}};
  const Dims stride = strides_of(in);
  const std::vector<int64_t> perm = perm_of(c, int(in.size()));
  std::vector<DimMap> dims(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) dims[d].stride = stride[size_t(perm[d])];
  return gather_dims(k, dims, 0);
}

OpSource broadcast(const KernelDesc& k) {
  const Dims &in = k.inputs[0].type.dims, &out = k.outputs[0].dims;
  const Dims stride = strides_of(in);
  const size_t lead = out.size() - in.size();
  std::vector<DimMap> dims(out.size());
  for (size_t d = lead; d < out.size(); ++d) dims[d].stride = in[d - lead] == 1 ? 0 : stride[d - lead];
  return gather_dims(k, dims, 0);
}

// The adjoint of a map gather: output element j sums the incoming gradient
// over the elements whose maps point at j. Per dimension the table holds
// where each j's list of sources starts (size + 1 entries), then the
// sources' offsets in the gradient.
OpSource movement_grad(const KernelDesc& k) {
  InferCtx c{*k.node, {}};
  const Dims &dy = k.inputs[0].type.dims, &out = k.outputs[0].dims;
  const IndexMaps maps = movement_maps(c, attr_str(*k.node, "forward"), out, dy);
  const Dims dy_stride = strides_of(dy);
  OpSource src;
  const int64_t n = num_elements(out);
  src.blocks = blocks_for(n);
  const DType dt = k.outputs[0].dtype, compute = compute_of(dt);
  std::ostringstream s, loops, close;
  std::string at = "0";
  for (size_t d = 0; d < out.size(); ++d) {
    const size_t starts = src.table.size(), list = starts + size_t(out[d]) + 1;
    std::vector<std::vector<int64_t>> sources(size_t(out[d]));
    for (size_t i = 0; i < maps[d].size(); ++i)
      if (maps[d][i] >= 0) sources[size_t(maps[d][i])].push_back(int64_t(i) * dy_stride[d]);
    int64_t total = 0;
    for (const auto& v : sources) {
      src.table.push_back(total);
      total += int64_t(v.size());
    }
    src.table.push_back(total);
    for (const auto& v : sources) src.table.insert(src.table.end(), v.begin(), v.end());
    loops << "    for (long long p" << d << " = table[" << starts << "LL + c" << d << "]; p" << d << " < table[" << starts
          << "LL + c" << d << " + 1]; ++p" << d << ") {\n      const long long o" << d << " = table[" << list << "LL + p" << d
          << "];\n";
    close << "    }\n";
    at += " + o" + std::to_string(d);
  }
  s << "  typedef " << register_type(compute) << " R;\n";
  s << "  " << grid_loop("i", n) << " {\n" << coords(out, "i", "c");
  s << "    R acc = R(0);\n" << loops.str();
  s << "    acc = ts::math::wrap_add(acc, " << load_expr(dt, "in0[" + at + "]", "R") << ");\n" << close.str();
  s << "    out0[i] = " << store_expr(dt, "acc", compute) << ";\n  }\n";
  src.body = s.str();
  return src;
}

// The axis coordinate `a` picks part p where starts[p] <= a < starts[p + 1].
struct Parts : AxisView {
  int axis = 0;
  std::vector<int64_t> starts{0};
};
Parts parts_along(const Dims& whole, int axis, const std::vector<TensorType>& parts) {
  Parts p;
  static_cast<AxisView&>(p) = axis_view(whole, axis);
  p.axis = axis;
  for (const TensorType& t : parts) p.starts.push_back(p.starts.back() + t.dims[size_t(axis)]);
  return p;
}

// Statements run for element i of the whole (o, a, r: its outer index, axis
// coordinate and inner index), calling emit(part, offset in the part).
template <class F>
std::string per_part(const Parts& p, F emit) {
  std::ostringstream s;
  s << "    const long long r = i % " << divisor(p.inner) << ", a = i / " << divisor(p.inner) << " % " << divisor(p.n) << ", o = i / "
    << divisor(p.inner * p.n) << ";\n";
  const char* chain = "";
  for (size_t q = 0; q + 1 < p.starts.size(); ++q) {
    const int64_t len = p.starts[q + 1] - p.starts[q];
    if (len == 0) continue;
    s << "    " << chain << "if (a < " << p.starts[q + 1] << "LL) { const long long at = (o * " << len
      << "LL + (a - " << p.starts[q] << "LL)) * " << p.inner << "LL + r; " << emit(q, "at") << " }\n";
    chain = "else ";
  }
  return s.str();
}

OpSource concat(const KernelDesc& k) {
  const TensorType& out = k.outputs[0];
  std::vector<TensorType> parts;
  for (const KernelOperand& o : k.inputs) parts.push_back(o.type);
  const Parts p = parts_along(out.dims, axis_attr(k, int(out.dims.size())), parts);
  OpSource src;
  const int64_t n = num_elements(out.dims);
  src.blocks = blocks_for(n);
  const DType compute = compute_of(out.dtype);
  src.body = "  typedef " + std::string(register_type(compute)) + " R;\n  " + grid_loop("i", n) + " {\n" +
             per_part(p, [&](size_t q, const std::string& at) {
    const std::string v = "in" + std::to_string(q) + "[" + at + "]";
    if (parts[q].dtype == out.dtype) return "out0[i] = " + v + ";";
    return "out0[i] = " + store_expr(out.dtype, load_expr(parts[q].dtype, v, "R"), compute) + ";";
  }) + "  }\n";
  return src;
}

OpSource split(const KernelDesc& k) {
  const Dims& whole = k.inputs[0].type.dims;
  const Parts p = parts_along(whole, axis_attr(k, int(whole.size())), k.outputs);
  if (p.starts.back() != p.n)  // shapes known only at run time can still disagree
    throw ShapeError(detail::describe(*k.node) + ": pieces of " + std::to_string(p.starts.back()) + " along axis " +
                     std::to_string(p.axis) + " do not cover " + dims_str(whole));
  OpSource src;
  const int64_t n = num_elements(whole);
  src.blocks = blocks_for(n);
  src.body = "  " + grid_loop("i", n) + " {\n" + per_part(p, [](size_t q, const std::string& at) {
    return "out" + std::to_string(q) + "[" + at + "] = in0[i];";
  }) + "  }\n";
  return src;
}

OpSource shape_of(const KernelDesc& k) {
  OpSource src;
  src.blocks = 1;
  src.threads = 1;
  std::ostringstream s;
  const Dims& dims = k.inputs[0].type.dims;
  for (size_t d = 0; d < dims.size(); ++d) s << "  out0[" << d << "] = " << dims[d] << "LL;\n";
  src.body = s.str();
  return src;
}

TS_CUDA_KERNEL("slice", map_gather);
TS_CUDA_KERNEL("pad", map_gather);
TS_CUDA_KERNEL("tile", map_gather);
TS_CUDA_KERNEL("flip", map_gather);
TS_CUDA_KERNEL("transpose", transpose);
TS_CUDA_KERNEL("broadcast_to", broadcast);
TS_CUDA_KERNEL("broadcast_like", broadcast);
TS_CUDA_KERNEL("movement_grad", movement_grad);
TS_CUDA_KERNEL("concat", concat);
TS_CUDA_KERNEL("split", split);
TS_CUDA_KERNEL("split_like", split);
TS_CUDA_KERNEL("shape_of", shape_of);

}  // namespace
}  // namespace ts::cuda
