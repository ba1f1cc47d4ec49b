// Data movement: slice, pad, tile, flip (all "index map" gathers, whose
// gradient is the matching scatter-add, movement_grad), concat and split.
#include <algorithm>
#include <cstring>

#include "ops/infer_util.h"
#include "ops/movement_maps.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

// Python's slice(start, stop, step).indices(n), with the length.
struct SliceDim { int64_t start = 0, step = 1, len = 0; };
SliceDim slice_dim(int64_t n, int64_t start, int64_t stop, int64_t step) {
  auto clampi = [&](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0) v = v < -n ? lo : v + n;  // careful with INT64_MIN sentinels
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return v;
  };
  SliceDim s;
  s.step = step;
  if (step > 0) {
    s.start = clampi(start, 0, n);
    int64_t e = clampi(stop, 0, n);
    s.len = e > s.start ? (e - s.start - 1) / step + 1 : 0;  // no overflow for huge steps
  } else {
    s.start = clampi(start, -1, n - 1);
    int64_t e = clampi(stop, -1, n - 1);
    // -step overflows for INT64_MIN: divide as unsigned.
    s.len = s.start > e ? int64_t(uint64_t(s.start - e - 1) / (uint64_t(0) - uint64_t(step))) + 1 : 0;
  }
  return s;
}

// The per-dimension parameters of slice, validated. The last `trailing`
// entries apply to the last dimensions (indexing after '...', which works on
// tensors whose rank is known only at run time); the others to the first.
struct SliceArgs {
  Dims starts, ends, steps;
  std::vector<int> entry_of;  // per dimension of the input: its entry, or -1
};
SliceArgs slice_args(const InferCtx& c, size_t rank) {
  SliceArgs a{c.ints("starts"), c.ints("ends"), c.has("strides") ? c.ints("strides") : Dims{}, {}};
  if (a.steps.empty()) a.steps.assign(a.starts.size(), 1);
  const int64_t trailing = c.has("trailing") ? c.i("trailing") : 0;
  const size_t n = a.starts.size();
  if (n != a.ends.size() || n != a.steps.size() || n > rank || trailing < 0 || size_t(trailing) > n)
    c.fail("starts " + dims_str(a.starts) + ", ends " + dims_str(a.ends) + " and strides " + dims_str(a.steps) +
           " must have equal lengths of at most the rank of " + c.in[0].str() + " (trailing " +
           std::to_string(trailing) + " of them)");
  for (int64_t s : a.steps)
    if (s == 0) c.fail("slice step cannot be zero");
  a.entry_of.assign(rank, -1);
  for (size_t k = 0; k < n; ++k) a.entry_of[k + trailing >= n ? rank - (n - k) : k] = int(k);
  return a;
}

int64_t pad_before(const Dims& pads, size_t d) { return pads[2 * d]; }
int64_t pad_after(const Dims& pads, size_t d) { return pads[2 * d + 1]; }

// Index maps of a gather-like movement op from its input shape to its output
// shape; shared by the forward kernels and movement_grad.
// The source index along one padded dimension of size n for output index i
// shifted by the padding before it (j may lie outside [0, n)), in O(1).
int64_t pad_source(const std::string& mode, int64_t j, int64_t n) {
  if (j >= 0 && j < n) return j;
  if (mode == "constant") return -1;
  if (mode == "edge" || n == 1) return j < 0 ? 0 : n - 1;
  // reflect mirrors about the end elements (period 2(n-1)), symmetric
  // repeats them (period 2n).
  const bool reflect = mode == "reflect";
  const int64_t period = reflect ? 2 * (n - 1) : 2 * n;
  int64_t k = j % period;
  if (k < 0) k += period;
  return k < n ? k : (reflect ? period - k : period - 1 - k);
}

}  // namespace

IndexMaps movement_maps(const InferCtx& c, const std::string& type, const Dims& in, const Dims& out) {
  enum class Kind { Slice, Flip, Tile, Pad } kind = type == "slice" ? Kind::Slice
                                                   : type == "flip" ? Kind::Flip
                                                   : type == "tile" ? Kind::Tile
                                                                    : Kind::Pad;
  IndexMaps maps(out.size());
  SliceArgs sa;
  std::vector<bool> flipped(in.size(), !c.has("axes"));
  if (kind == Kind::Slice) sa = slice_args(c, in.size());
  if (kind == Kind::Flip && c.has("axes"))
    for (int a : normalize_axes(c, c.ints("axes"), int(in.size()))) flipped[a] = true;
  const std::string mode = kind == Kind::Pad ? c.s("mode") : "";
  const Dims pads = kind == Kind::Pad ? c.ints("pads") : Dims{};
  for (size_t d = 0; d < out.size(); ++d) {
    std::vector<int64_t>& m = maps[d];
    m.resize(out[d]);
    const int64_t n = in[d];
    SliceDim s{0, 1, n};
    if (kind == Kind::Slice && sa.entry_of[d] >= 0) {
      const int e = sa.entry_of[d];
      s = slice_dim(n, sa.starts[e], sa.ends[e], sa.steps[e]);
    }
    for (int64_t i = 0; i < out[d]; ++i) {
      switch (kind) {
        case Kind::Slice: m[i] = s.start + i * s.step; break;
        case Kind::Flip: m[i] = flipped[d] ? n - 1 - i : i; break;
        case Kind::Tile: m[i] = i % n; break;
        case Kind::Pad: m[i] = pad_source(mode, i - pad_before(pads, d), n); break;
      }
    }
  }
  return maps;
}

namespace {

std::vector<TensorType> infer_slice(InferCtx& c) {
  const TensorType& x = c.in[0];
  if (!x.ranked) return {x};
  SliceArgs a = slice_args(c, x.dims.size());
  Dims dims = x.dims;
  for (size_t d = 0; d < dims.size(); ++d) {
    const int e = a.entry_of[d];
    if (e >= 0 && dims[d] >= 0) dims[d] = slice_dim(dims[d], a.starts[e], a.ends[e], a.steps[e]).len;
  }
  return {ranked(dims, x.dtype)};
}

const char* const kPadModes[] = {"constant", "reflect", "symmetric", "edge"};
std::vector<TensorType> infer_pad(InferCtx& c) {
  const TensorType& x = c.in[0];
  const std::string& mode = c.s("mode");
  if (std::find(std::begin(kPadModes), std::end(kPadModes), mode) == std::end(kPadModes))
    c.fail("unknown mode '" + mode + "'; expected constant, reflect, symmetric or edge");
  if (!x.ranked) return {x};
  const Dims& pads = c.ints("pads");
  if (pads.size() != 2 * x.dims.size())
    c.fail("pads " + dims_str(pads) + " must hold (before, after) for each of the " + std::to_string(x.dims.size()) +
           " dimensions of " + x.str());
  Dims dims = x.dims;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (pad_before(pads, d) < 0 || pad_after(pads, d) < 0) c.fail("negative padding in " + dims_str(pads));
    bool padded = pad_before(pads, d) > 0 || pad_after(pads, d) > 0;
    if (dims[d] == 0 && padded && mode != "constant") c.fail("cannot pad the empty dimension " + std::to_string(d) + " of " + x.str() + " in mode " + mode);
    if (dims[d] >= 0) dims[d] = checked_add(c, dims[d], checked_add(c, pad_before(pads, d), pad_after(pads, d)));
  }
  return {ranked(dims, x.dtype)};
}

std::vector<TensorType> infer_tile(InferCtx& c) {
  const TensorType& x = c.in[0];
  if (!x.ranked) return {x};
  const Dims& reps = c.ints("reps");
  if (reps.size() != x.dims.size()) c.fail("reps " + dims_str(reps) + " must have one entry per dimension of " + x.str());
  Dims dims = x.dims;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (reps[d] < 0) c.fail("negative repetition in " + dims_str(reps));
    if (dims[d] >= 0) dims[d] = checked_mul(c, dims[d], reps[d]);
  }
  return {ranked(dims, x.dtype)};
}

std::vector<TensorType> infer_flip(InferCtx& c) {
  if (c.in[0].ranked && c.has("axes")) normalize_axes(c, c.ints("axes"), int(c.in[0].dims.size()));
  return {c.in[0]};
}

// movement_grad(dy, like): the adjoint of the gather op named by "forward".
std::vector<TensorType> infer_movement_grad(InferCtx& c) {
  TensorType t = c.in[1];
  t.dtype = c.in[0].dtype;
  return {t};
}
Attrs without_forward(Attrs attrs) {
  attrs.erase("forward");
  return attrs;
}
Grads g_gather_map(GradCtx& c) {
  Attrs attrs = c.attrs();
  attrs["forward"] = c.node.type;
  return {c.op("movement_grad", {c.dy[0], c.x[0]}, attrs)};
}
Grads g_flip(GradCtx& c) { return {c.op("flip", {c.dy[0]}, c.attrs())}; }
Grads g_movement_grad(GradCtx& c) {
  return {c.op(c.s("forward"), {c.dy[0]}, without_forward(c.attrs())), Tensor()};
}

// ---- concat and split ----
std::vector<TensorType> infer_concat(InferCtx& c) {
  if (c.in.empty()) c.fail("needs at least one tensor");
  DType dt = c.in[0].dtype;
  int rank = -1;
  for (const TensorType& t : c.in) {
    dt = promote_types(dt, t.dtype);
    if (!t.ranked) continue;
    if (rank >= 0 && int(t.dims.size()) != rank) c.fail("all tensors must have the same rank; got " + c.in[0].str() + " and " + t.str());
    rank = int(t.dims.size());
  }
  if (rank < 0) return {unranked(dt)};
  if (rank == 0) c.fail("cannot concatenate scalars; expected tensors of rank >= 1");
  int axis = normalize_axis(c, c.i("axis"), rank);
  Dims dims(rank, -1);
  dims[axis] = 0;
  for (const TensorType& t : c.in) {
    if (!t.ranked) { dims[axis] = -1; continue; }
    for (int d = 0; d < rank; ++d) {
      int64_t v = t.dims[d];
      if (d == axis) { dims[d] = (dims[d] < 0 || v < 0) ? -1 : checked_add(c, dims[d], v); continue; }
      if (v >= 0 && dims[d] >= 0 && v != dims[d])
        c.fail("dimension " + std::to_string(d) + " differs: " + c.in[0].str() + " vs " + t.str() + " (only axis " + std::to_string(axis) + " may differ)");
      if (v >= 0) dims[d] = v;
    }
  }
  return {ranked(dims, dt)};
}

Grads g_concat(GradCtx& c) {
  std::vector<Tensor> ins{c.dy[0]};
  ins.insert(ins.end(), c.x.begin(), c.x.end());
  return c.ops("split_like", ins, {{"axis", c.attrs().at("axis")}});
}

// Outputs are separate tensors, each with its own bookkeeping: a bound keeps
// a typo (split into 2**40 parts) an error instead of an allocation storm.
constexpr int64_t kMaxSplitOutputs = int64_t(1) << 16;

std::vector<TensorType> infer_split(InferCtx& c) {
  const TensorType& x = c.in[0];
  const int64_t pieces = c.has("count") ? c.i("count") : int64_t(c.has("sizes") ? c.ints("sizes").size() : 0);
  if (pieces <= 0 || pieces > kMaxSplitOutputs)
    c.fail("the number of pieces must be in [1, " + std::to_string(kMaxSplitOutputs) + "]; got " + std::to_string(pieces));
  // Unranked: the pieces' shapes are known at run time.
  if (!x.ranked) return std::vector<TensorType>(size_t(pieces), x);
  int axis = normalize_axis(c, c.i("axis"), int(x.dims.size()));
  int64_t n = x.dims[axis];
  Dims sizes;
  if (c.has("count")) {
    int64_t count = c.i("count");
    if (n >= 0 && n % count) c.fail("cannot split dimension " + std::to_string(axis) + " of " + x.str() + " into " + std::to_string(count) + " equal parts");
    sizes.assign(count, n < 0 ? -1 : n / count);
  } else {
    sizes = c.ints("sizes");
    int64_t total = 0;
    for (int64_t s : sizes) {
      if (s < 0) c.fail("negative size in " + dims_str(sizes));
      total = checked_add(c, total, s);
    }
    if (n >= 0 && total != n) c.fail("sizes " + dims_str(sizes) + " sum to " + std::to_string(total) + ", not dimension " + std::to_string(axis) + " of " + x.str());
  }
  std::vector<TensorType> outs;
  for (int64_t s : sizes) {
    TensorType t = x;
    t.dims[axis] = s;
    outs.push_back(t);
  }
  return outs;
}
Grads g_split(GradCtx& c) {
  std::vector<Tensor> parts;
  for (size_t i = 0; i < c.y.size(); ++i) parts.push_back(c.dy_or_zeros(i));
  return {c.op("concat", parts, {{"axis", c.attrs().at("axis")}})};
}

// split_like(x, like_0, ..., like_n): x split along axis into pieces shaped like each like_i.
std::vector<TensorType> infer_split_like(InferCtx& c) {
  const TensorType& x = c.in[0];
  if (!x.ranked) c.fail("needs a ranked input");
  int axis = normalize_axis(c, c.i("axis"), int(x.dims.size()));
  std::vector<TensorType> outs;
  int64_t total = 0;
  for (size_t i = 1; i < c.in.size(); ++i) {
    TensorType t = x;
    t.dims[axis] = c.in[i].ranked && int(c.in[i].dims.size()) > axis ? c.in[i].dims[axis] : -1;
    total = (total < 0 || t.dims[axis] < 0) ? -1 : checked_add(c, total, t.dims[axis]);
    outs.push_back(t);
  }
  if (total >= 0 && x.dims[axis] >= 0 && total != x.dims[axis])
    c.fail("pieces of " + std::to_string(total) + " along axis " + std::to_string(axis) + " do not cover " + x.str());
  return outs;
}
Grads g_split_like(GradCtx& c) {
  Grads g = g_split(c);
  g.resize(c.x.size());
  return g;
}

const bool registered = [] {
  register_op(make_op("slice", OpClass::Movement, 1, infer_slice, g_gather_map));
  register_op(make_op("pad", OpClass::Movement, 1, infer_pad, g_gather_map));
  register_op(make_op("tile", OpClass::Movement, 1, infer_tile, g_gather_map));
  register_op(make_op("flip", OpClass::Movement, 1, infer_flip, g_flip));
  OpDef movement_grad = make_op("movement_grad", OpClass::Movement, 2, infer_movement_grad, g_movement_grad);
  movement_grad.shape_inputs = 0b10;
  register_op(movement_grad);
  register_op(make_op("concat", OpClass::Movement, -1, infer_concat, g_concat));
  register_op(make_op("split", OpClass::Movement, 1, infer_split, g_split));
  OpDef split_like = make_op("split_like", OpClass::Movement, -1, infer_split_like, g_split_like);
  split_like.shape_inputs = ~1u;
  register_op(split_like);
  return true;
}();

}  // namespace
}  // namespace ts
