#include <algorithm>
#include <set>
#include <unordered_map>

#include "ops/infer_util.h"
#include "ops/op_def.h"
#include "passes/program.h"

namespace ts {
namespace {

bool fits(DType compute, DType t) {
  if (t == DType::Bool) return true;
  if (compute == DType::Float64) return t == DType::Float64;
  return t == DType::Float32 || t == DType::Float16 || t == DType::BFloat16;
}

// The register type a node could be stitched in, or Bool when it cannot.
DType compute_type(const Program& p, const detail::Node& n) {
  bool any64 = false;
  for (int t : n.inputs) any64 = any64 || p.types.at(p.resolve(t)).dtype == DType::Float64;
  for (int t : n.outputs) any64 = any64 || p.types.at(t).dtype == DType::Float64;
  DType c = any64 ? DType::Float64 : DType::Float32;
  for (int t : n.inputs)
    if (!fits(c, p.types.at(p.resolve(t)).dtype)) return DType::Bool;
  for (int t : n.outputs)
    if (!fits(c, p.types.at(t).dtype)) return DType::Bool;
  return c;
}

bool stitchable(const Program& p, const detail::Node& n) {
  if (n.def->cls != OpClass::Elementwise || !n.def->tile || n.outputs.size() != 1) return false;
  // A bool result stays exact in a float register only as 0/1.
  const bool bool_out = p.types.at(n.outputs[0]).dtype == DType::Bool;
  if (bool_out && !n.def->bool_result) return false;
  return compute_type(p, n) != DType::Bool;
}

bool is_reduction_anchor(const Program& p, const detail::Node& n, DType* compute) {
  const Combiner how = n.def->reduction;
  if (how != Combiner::Sum && how != Combiner::Mean && how != Combiner::Max && how != Combiner::Min) return false;
  const TensorType& in = p.types.at(p.resolve(n.inputs[0]));
  if (in.dtype != DType::Float32 && in.dtype != DType::Float64) return false;
  if (p.types.at(n.outputs[0]).dtype != in.dtype) return false;
  // Only trailing axes: each output element then reduces one contiguous run.
  InferCtx c{n, {in}};
  std::vector<int> axes;
  if (n.attrs.count("axes")) {
    axes = normalize_axes(c, c.ints("axes"), int(in.dims.size()));
  } else {
    for (int d = 0; d < int(in.dims.size()); ++d) axes.push_back(d);
  }
  for (size_t k = 0; k < axes.size(); ++k)
    if (axes[k] != int(in.dims.size() - axes.size() + k)) return false;
  *compute = in.dtype;
  return true;
}

bool is_matmul_anchor(const Program& p, const detail::Node& n, DType compute) {
  if (n.def->cls != OpClass::Matmul) return false;
  DType out = p.types.at(n.outputs[0]).dtype;
  return out == compute && (out == DType::Float32 || out == DType::Float64);
}

}  // namespace

void fuse(Program& p, bool enabled) {
  p.regions.clear();
  std::unordered_map<int, std::vector<int>> users;  // tensor -> consuming nodes (value reads)
  std::vector<bool> live(p.g->nodes.size(), false);
  for (int id : p.nodes) {
    live[id] = true;
    const detail::Node& n = p.node(id);
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (n.def->reads_value(i)) users[p.resolve(n.inputs[i])].push_back(id);
  }
  std::set<int> pinned;  // tensors that must be materialized: targets
  for (int t : p.targets) pinned.insert(p.resolve(t));

  std::unordered_map<int, size_t> position;  // node -> place in the schedule
  for (size_t k = 0; k < p.nodes.size(); ++k) position[p.nodes[k]] = k;
  std::unordered_map<int, int> region_of;  // node -> region index
  std::vector<Region> found;
  for (auto it = p.nodes.rbegin(); it != p.nodes.rend(); ++it) {
    const int id = *it;
    if (region_of.count(id)) continue;
    const detail::Node& n = p.node(id);
    Region r;
    r.root = id;
    r.nodes = {id};
    Dims shape;
    if (enabled && stitchable(p, n)) {
      r.kind = Region::Kind::Elementwise;
      r.compute = compute_type(p, n);
      shape = p.types.at(n.outputs[0]).dims;
    } else if (enabled && is_reduction_anchor(p, n, &r.compute)) {
      r.kind = Region::Kind::Reduce;
      r.anchor = id;
      shape = p.types.at(p.resolve(n.inputs[0])).dims;
    }
    const int index = int(found.size());
    region_of[id] = index;
    // Pull producers in while all their users are already inside.
    std::vector<int> work = r.kind == Region::Kind::Single ? std::vector<int>{} : std::vector<int>{id};
    while (!work.empty()) {
      const detail::Node& m = p.node(work.back());
      work.pop_back();
      if (m.id == r.anchor && r.kind == Region::Kind::Matmul) continue;  // a matmul's inputs stay outside
      for (size_t i = 0; i < m.inputs.size(); ++i) {
        if (!m.def->reads_value(i)) continue;
        const int t = p.resolve(m.inputs[i]);
        if (p.known.count(t) || pinned.count(t)) continue;
        const int q = p.g->tensors[t].producer;
        if (!live[q] || region_of.count(q)) continue;
        // A matmul anchor reads its operands from memory, so a tensor it
        // reads must be materialized: that user counts as outside.
        bool all_inside = true;
        for (int u : users[t])
          all_inside = all_inside && region_of.count(u) && region_of[u] == index &&
                       !(r.kind == Region::Kind::Matmul && u == r.anchor);
        const detail::Node& pn = p.node(q);
        if (!all_inside || p.types.at(t).dims != shape) continue;
        if (stitchable(p, pn) && compute_type(p, pn) == r.compute) {
          region_of[q] = index;
          r.nodes.push_back(q);
          work.push_back(q);
        } else if (r.kind == Region::Kind::Elementwise && is_matmul_anchor(p, pn, r.compute)) {
          r.kind = Region::Kind::Matmul;
          r.anchor = q;
          region_of[q] = index;
          r.nodes.push_back(q);
        }
      }
    }
    // Members in execution order (the schedule's order is topological).
    std::sort(r.nodes.begin(), r.nodes.end(), [&](int a, int b) { return position[a] < position[b]; });
    found.push_back(r);
  }
  // Regions run in the order of their roots.
  std::sort(found.begin(), found.end(),
            [&](const Region& a, const Region& b) { return position[a.root] < position[b.root]; });
  p.regions = found;
}

}  // namespace ts
