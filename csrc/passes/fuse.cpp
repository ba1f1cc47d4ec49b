#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ops/infer_util.h"
#include "ops/op_def.h"
#include "passes/program.h"

namespace ts {
namespace {

bool stitchable(const Program& p, const detail::Node& n) { return n.def->scalar && n.outputs.size() == 1; }

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

// A reduction over the last axis alone of an input shaped `full`, in the
// region's compute type: a row region can compute it per row.
bool is_row_reduction(const Program& p, const detail::Node& n, const Dims& full, DType compute) {
  DType c;
  if (!is_reduction_anchor(p, n, &c) || c != compute) return false;
  const TensorType& in = p.types.at(p.resolve(n.inputs[0]));
  if (in.dims != full) return false;
  InferCtx ctx{n, {in}};
  return n.attrs.count("axes") && ctx.ints("axes").size() == 1 &&
         normalize_axis(ctx, ctx.ints("axes")[0], int(full.size())) == int(full.size()) - 1;
}

// The full shape of a row region whose root computes one value per row
// (shaped `per_row`, the full shape without its last axis): the input of a
// last-axis reduction the root reaches through a few same-shaped elementwise
// ops (a bounded search, so trying every root stays linear overall).
bool row_space_below(const Program& p, const detail::Node& root, const Dims& per_row, DType compute, Dims* full) {
  constexpr size_t kMaxSearch = 32;
  std::vector<int> work{root.id};
  std::unordered_set<int> seen;
  while (!work.empty() && seen.size() < kMaxSearch) {
    const detail::Node& m = p.node(work.back());
    work.pop_back();
    if (!seen.insert(m.id).second) continue;
    for (size_t i = 0; i < m.inputs.size(); ++i) {
      const int t = p.resolve(m.inputs[i]);
      if (!m.def->reads_value(i) || p.known.count(t)) continue;
      const detail::Node& q = p.g->producer(t);
      const Dims& below = p.types.at(p.resolve(q.inputs.empty() ? t : q.inputs[0])).dims;
      if (!below.empty() && Dims(below.begin(), below.end() - 1) == per_row && is_row_reduction(p, q, below, compute)) {
        *full = below;
        return true;
      }
      if (p.types.at(t).dims == per_row && stitchable(p, q)) work.push_back(q.id);
    }
  }
  return false;
}

// Rows longer than this are not held in per-thread row registers.
constexpr int64_t kMaxRowLength = int64_t(1) << 16;

// Grows a row region from `root`. Its values have the full shape S, or one
// value per row: S with its last dimension 1 (from keepdims reductions) or
// without it. Per-row values come from last-axis reductions of full ones,
// and each row is computed in one pass: softmax, layer norm and
// cross-entropy written from primitives become one kernel. Returns false
// when no reduction joins (ordinary fusion applies then).
bool grow_row_region(const Program& p, const std::unordered_map<int, std::vector<int>>& users,
                     const std::vector<bool>& live, const std::set<int>& pinned,
                     const std::unordered_map<int, int>& region_of, Region& r) {
  const detail::Node& root = p.node(r.root);
  Dims full;
  if (stitchable(p, root)) {
    r.compute = register_type(p, root);
    full = p.types.at(root.outputs[0]).dims;
    Dims below;
    if (row_space_below(p, root, full, r.compute, &below)) full = below;
  } else if (is_reduction_anchor(p, root, &r.compute)) {
    full = p.types.at(p.resolve(root.inputs[0])).dims;
    if (!is_row_reduction(p, root, full, r.compute)) return false;
  } else {
    return false;
  }
  // Empty rows stay with the unfused kernels, which give reductions their identities.
  if (full.empty() || full.back() == 0 || full.back() > kMaxRowLength) return false;
  const Dims squeezed(full.begin(), full.end() - 1);
  Dims kept = full;
  kept.back() = 1;
  std::unordered_set<int> inside{r.root};
  std::vector<int> work{r.root};
  int reductions = 0;
  while (!work.empty()) {
    const detail::Node& m = p.node(work.back());
    work.pop_back();
    const bool per_row_member = m.outputs.size() == 1 && p.types.at(m.outputs[0]).dims != full;
    for (size_t i = 0; i < m.inputs.size(); ++i) {
      if (!m.def->reads_value(i)) continue;
      const int t = p.resolve(m.inputs[i]);
      const Dims& dims = p.types.at(t).dims;
      const int q = p.g->tensors[t].producer;
      const bool joins = !p.known.count(t) && !pinned.count(t) && live[q] && !region_of.count(q) && !inside.count(q);
      bool all_inside = joins;
      for (size_t k = 0; all_inside && k < users.at(t).size(); ++k) all_inside = inside.count(users.at(t)[k]) != 0;
      const detail::Node& pn = p.node(q);
      // A value with one entry per row and no last axis broadcasts against
      // full-shaped ones along the last axis (NumPy's rule), not per row: it
      // joins only as an input of another per-row value.
      const bool row_squeezed = dims == squeezed && num_elements(dims) != 1;
      const bool fits = !row_squeezed || per_row_member;
      const bool elementwise = (dims == full || dims == kept || dims == squeezed) && stitchable(p, pn) &&
                               register_type(p, pn) == r.compute;
      const bool reduction = (dims == kept || dims == squeezed) && is_row_reduction(p, pn, full, r.compute);
      if (all_inside && fits && (elementwise || reduction)) {
        reductions += reduction;
        inside.insert(q);
        work.push_back(q);
      } else if (per_row_member && row_squeezed && !inside.count(q)) {
        return false;  // read from memory, it would broadcast along the last axis, not per row
      }
    }
  }
  if (!reductions) return false;
  r.kind = Region::Kind::Row;
  r.space = full;
  r.nodes.assign(inside.begin(), inside.end());
  return true;
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
    const int index = int(found.size());
    if (enabled && grow_row_region(p, users, live, pinned, region_of, r)) {
      for (int m : r.nodes) region_of[m] = index;
      std::sort(r.nodes.begin(), r.nodes.end(), [&](int a, int b) { return position[a] < position[b]; });
      found.push_back(r);
      continue;
    }
    if (enabled && stitchable(p, n)) {
      r.kind = Region::Kind::Elementwise;
      r.compute = register_type(p, n);
      shape = p.types.at(n.outputs[0]).dims;
    } else if (enabled && is_reduction_anchor(p, n, &r.compute)) {
      r.kind = Region::Kind::Reduce;
      r.anchor = id;
      shape = p.types.at(p.resolve(n.inputs[0])).dims;
    }
    region_of[id] = index;
    // Once an elementwise region takes in a reduction, that reduction and
    // the members above it (its prologue) have the reduction's input shape;
    // the members below it are its epilogue.
    Dims prologue_shape;
    std::unordered_set<int> upstream;
    // Pull producers in while all their users are already inside.
    std::vector<int> work = r.kind == Region::Kind::Single ? std::vector<int>{} : std::vector<int>{id};
    while (!work.empty()) {
      const detail::Node& m = p.node(work.back());
      work.pop_back();
      if (m.id == r.anchor && r.kind == Region::Kind::Matmul) continue;  // a matmul's inputs stay outside
      for (size_t i = 0; i < m.inputs.size(); ++i) {
        if (!m.def->reads_value(i)) continue;
        const int t = p.resolve(m.inputs[i]);
        if (p.known.count(t)) continue;
        const int q = p.g->tensors[t].producer;
        if (!live[q] || region_of.count(q)) continue;
        // A matmul anchor reads its operands from memory, so a tensor it
        // reads must be materialized: that user counts as outside.
        bool all_inside = !pinned.count(t), later = true;
        for (int u : users[t]) {
          const bool inside = region_of.count(u) && region_of[u] == index && !(r.kind == Region::Kind::Matmul && u == r.anchor);
          all_inside = all_inside && inside;
          // Users in regions formed already run after this one.
          later = later && (inside || (region_of.count(u) && region_of[u] != index));
        }
        const detail::Node& pn = p.node(q);
        const bool above = upstream.count(m.id) != 0;
        if (p.types.at(t).dims != (above ? prologue_shape : shape)) continue;
        DType reduced;
        const bool joins = stitchable(p, pn) && register_type(p, pn) == r.compute;
        if (!all_inside) {
          // A value also needed outside (a target, or a later region's
          // input) joins an elementwise region as one more output.
          if (joins && later && r.kind == Region::Kind::Elementwise) {
            region_of[q] = index;
            r.nodes.push_back(q);
            r.extra_outputs.push_back(t);
            work.push_back(q);
          }
          continue;
        }
        if (joins) {
          region_of[q] = index;
          r.nodes.push_back(q);
          work.push_back(q);
          if (above) upstream.insert(q);
        } else if (r.kind == Region::Kind::Elementwise && r.extra_outputs.empty() && is_reduction_anchor(p, pn, &reduced) &&
                   reduced == r.compute && p.types.at(p.resolve(pn.inputs[0])).dims != shape) {
          r.kind = Region::Kind::Reduce;
          r.anchor = q;
          prologue_shape = p.types.at(p.resolve(pn.inputs[0])).dims;
          upstream.insert(q);
          region_of[q] = index;
          r.nodes.push_back(q);
          work.push_back(q);
        } else if (r.kind == Region::Kind::Elementwise && r.extra_outputs.empty() && is_matmul_anchor(p, pn, r.compute)) {
          r.kind = Region::Kind::Matmul;
          r.anchor = q;
          region_of[q] = index;
          r.nodes.push_back(q);
        }
      }
    }
    if (r.kind == Region::Kind::Reduce && r.anchor != r.root)
      for (int m : r.nodes)
        if (!upstream.count(m)) r.epilogue.push_back(m);
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
