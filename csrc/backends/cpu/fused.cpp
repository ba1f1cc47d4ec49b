#include "backends/cpu/fused.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

#include "backends/cpu/matmul.h"
#include "ir/scalar_types.h"
#include "runtime/thread_pool.h"

namespace ts::cpu {
namespace {

// Elements per register tile: 4 KiB of float32, so a region's live
// registers stay in L1.
constexpr int64_t kTile = 1024;

Reduce reduce_kind(Combiner how) {
  switch (how) {
    case Combiner::Mean: return Reduce::Mean;
    case Combiner::Max: return Reduce::Max;
    case Combiner::Min: return Reduce::Min;
    default: return Reduce::Sum;
  }
}

template <class C>
void load(const FusedKernel& k, size_t j, const void* base, int64_t s, int64_t n, C* dst) {
  dispatch_all(k.input_dtypes[j], [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(base);
    if (k.input_scalar[j]) {
      const C v = C(compute_t<T>(p[0]));
      for (int64_t i = 0; i < n; ++i) dst[i] = v;
      return;
    }
    if (k.input_contiguous[j]) {
      p += s;
      for (int64_t i = 0; i < n; ++i) dst[i] = C(compute_t<T>(p[i]));
      return;
    }
    // Broadcast or strided: walk rows of the innermost dimension.
    const Broadcast& bc = k.d().inputs[j].epilogue ? k.bc_out : k.bc;
    const Dims& shape = bc.shape;
    const Dims& st = bc.strides[j];
    const int rank = int(shape.size());
    std::array<int64_t, 17> idx;  // per tile: no heap allocation (collapsed rank <= 16)
    int64_t off = 0;
    for (int64_t d = rank - 1, r = s; d >= 0; --d) {
      idx[d] = r % shape[d];
      r /= shape[d];
      off += idx[d] * st[d];
    }
    const int64_t inner = shape[rank - 1], step = st[rank - 1];
    for (int64_t pos = 0; pos < n;) {
      const int64_t seg = std::min(inner - idx[rank - 1], n - pos);
      if (step == 0) {
        const C v = C(compute_t<T>(p[off]));
        for (int64_t i = 0; i < seg; ++i) dst[pos + i] = v;
      } else {
        for (int64_t i = 0; i < seg; ++i) dst[pos + i] = C(compute_t<T>(p[off + i * step]));
      }
      pos += seg;
      off += seg * step;
      idx[rank - 1] += seg;
      for (int d = rank - 1; d > 0 && idx[d] == shape[d]; --d) {
        off -= idx[d] * st[d];
        idx[d] = 0;
        ++idx[d - 1];
        off += st[d - 1];
      }
    }
  });
}

// Evaluates the region's value register for elements [s, s + n) of the
// iteration space; returns that register.
// One step over n registers: the scalar function, then the rounding.
template <class C>
void apply(const FusedKernel::Instr& ins, C* d, const C* a, const C* b, const C* c, int64_t n) {
  if constexpr (std::is_same_v<C, float>) {
    ins.fns.f32(d, a, b, c, n);
    if (ins.round.f32) ins.round.f32(d, n);
  } else if constexpr (std::is_same_v<C, double>) {
    ins.fns.f64(d, a, b, c, n);
    if (ins.round.f64) ins.round.f64(d, n);
  } else {
    ins.fns.i64(d, a, b, c, n);
    if (ins.round.i64) ins.round.i64(d, n);
  }
}

// Runs one phase over elements [s, s + n) of its space: loads the phase's
// operands, then steps [begin, end).
template <class C>
void run_phase(const FusedKernel& k, const void* const* in, int64_t s, int64_t n, C* regs, bool epilogue,
               size_t begin, size_t end) {
  for (size_t j = 0; j < k.d().inputs.size(); ++j) {
    const KernelOperand& o = k.d().inputs[j];
    if (o.reg >= 0 && o.epilogue == epilogue) load<C>(k, j, in[j], s, n, regs + o.reg * kTile);
  }
  auto reg = [&](int r) { return r < 0 ? nullptr : regs + r * kTile; };
  for (size_t i = begin; i < end; ++i) {
    const FusedKernel::Instr& ins = k.code[i];
    apply<C>(ins, reg(ins.dst), reg(ins.a), reg(ins.b), reg(ins.c), n);
  }
}

// The kernel's value register for elements [s, s + n) of the iteration space.
template <class C>
const C* evaluate(const FusedKernel& k, const void* const* in, int64_t s, int64_t n, C* regs) {
  run_phase<C>(k, in, s, n, regs, false, 0, k.d().epilogue_step);
  return regs + k.d().value_reg * kTile;
}


template <class C>
C* thread_registers(int count) {
  thread_local std::vector<C> regs;
  if (regs.size() < size_t(count) * kTile) regs.resize(size_t(count) * kTile);
  return regs.data();
}

template <class C>
void store(const C* v, int64_t n, DType dt, void* out, int64_t s) {
  dispatch_all(dt, [&](auto tag) {
    using T = decltype(tag);
    T* o = static_cast<T*>(out) + s;
    for (int64_t i = 0; i < n; ++i) o[i] = convert<T>(v[i]);
  });
}

// A reduction's epilogue over outputs [s, s + n), whose reduced values are
// in the reduced register; stores the result.
template <class C>
void run_epilogue(const FusedKernel& k, const void* const* in, int64_t s, int64_t n, C* regs, void* out) {
  run_phase<C>(k, in, s, n, regs, true, k.d().epilogue_step, k.code.size());
  store(regs + k.d().result_reg * kTile, n, k.d().outputs[0].dtype, out, s);
}

// Elementwise over [begin, end) of the iteration space, in parallel tiles.
template <class C>
void run_range(const FusedKernel& k, const void* const* in, void* const* out, int64_t begin,
               int64_t end, bool parallel = true) {
  const int64_t tiles = (end - begin + kTile - 1) / kTile;
  parallel_for(tiles, parallel ? 4 : tiles, [&](int64_t tb, int64_t te) {
    C* regs = thread_registers<C>(k.d().num_regs);
    for (int64_t t = tb; t < te; ++t) {
      const int64_t s = begin + t * kTile, n = std::min(kTile, end - s);
      store(evaluate<C>(k, in, s, n, regs), n, k.d().outputs[0].dtype, out[0], s);
      for (size_t o = 0; o < k.d().extra_regs.size(); ++o)
        store(regs + k.d().extra_regs[o] * kTile, n, k.d().outputs[o + 1].dtype, out[o + 1], s);
    }
  });
}

struct Acc {
  double v;
  bool nan;
};

Acc start(Reduce r) { return {r == Reduce::Max ? -INFINITY : r == Reduce::Min ? INFINITY : 0.0, false}; }

// Folds n values into acc: NaN-propagating max/min, and sums that
// accumulate one tile in the compute type, tiles in double.
template <class C>
void accumulate(Reduce r, const C* v, int64_t n, Acc& acc) {
  bool nan = false;
  if (r == Reduce::Max) {
    C m = C(acc.v);
#pragma omp simd reduction(max : m) reduction(|| : nan)
    for (int64_t i = 0; i < n; ++i) {
      nan = nan || v[i] != v[i];
      m = v[i] > m ? v[i] : m;
    }
    acc.v = double(m);
  } else if (r == Reduce::Min) {
    C m = C(acc.v);
#pragma omp simd reduction(min : m) reduction(|| : nan)
    for (int64_t i = 0; i < n; ++i) {
      nan = nan || v[i] != v[i];
      m = v[i] < m ? v[i] : m;
    }
    acc.v = double(m);
  } else {
    C part = 0;
#pragma omp simd reduction(+ : part)
    for (int64_t i = 0; i < n; ++i) part += v[i];
    acc.v += double(part);
  }
  acc.nan = acc.nan || nan;
}

// The reduced value of `count` elements.
double finish(Reduce r, Acc a, int64_t count) {
  const double v = a.nan ? NAN : a.v;
  return r == Reduce::Mean ? v / double(count) : v;
}

template <class C>
Acc reduce_span(const FusedKernel& k, const void* const* in, int64_t s, int64_t e, C* regs) {
  Acc acc = start(k.reduce);
  for (int64_t t = s; t < e; t += kTile) {
    const int64_t n = std::min(kTile, e - t);
    accumulate(k.reduce, evaluate<C>(k, in, t, n, regs), n, acc);
  }
  return acc;
}

Acc combine(Reduce r, Acc a, Acc b) {
  if (r == Reduce::Max) return {std::max(a.v, b.v), a.nan || b.nan};
  if (r == Reduce::Min) return {std::min(a.v, b.v), a.nan || b.nan};
  return {a.v + b.v, false};
}

template <class C>
void run_reduce(const FusedKernel& k, const void* const* in, NDArray& out) {
  const int64_t rows = out.size(), R = k.d().row;
  if (k.d().reduced_reg >= 0) {
    // With an epilogue: up to a tile of reduced values at a time, finished
    // and stored while they are in registers.
    parallel_for((rows + kTile - 1) / kTile, 1, [&](int64_t tb, int64_t te) {
      C* regs = thread_registers<C>(k.d().num_regs);
      C* reduced = regs + k.d().reduced_reg * kTile;
      for (int64_t t = tb; t < te; ++t) {
        const int64_t s = t * kTile, n = std::min(kTile, rows - s);
        for (int64_t i = 0; i < n; ++i)
          reduced[i] = C(finish(k.reduce, reduce_span<C>(k, in, (s + i) * R, (s + i + 1) * R, regs), R));
        run_epilogue<C>(k, in, s, n, regs, out.data());
      }
    });
    return;
  }
  C* result = out.data_as<C>();
  if (rows >= 2 * num_threads() || R <= kTile) {
    parallel_for(rows, std::max<int64_t>(1, 4 * kTile / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
      C* regs = thread_registers<C>(k.d().num_regs);
      for (int64_t i = b; i < e; ++i) result[i] = C(finish(k.reduce, reduce_span<C>(k, in, i * R, (i + 1) * R, regs), R));
    });
    return;
  }
  // Few long rows: split each row into chunks reduced in parallel.
  const int64_t chunks = std::min<int64_t>(num_threads() * 4, (R + kTile - 1) / kTile);
  const int64_t span = (R + chunks - 1) / chunks / kTile * kTile + kTile;
  std::vector<Acc> parts(chunks);
  for (int64_t i = 0; i < rows; ++i) {
    parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
      C* regs = thread_registers<C>(k.d().num_regs);
      for (int64_t c = b; c < e; ++c)
        parts[c] = reduce_span<C>(k, in, i * R + std::min(R, c * span), i * R + std::min(R, (c + 1) * span), regs);
    });
    Acc total = parts[0];
    for (int64_t c = 1; c < chunks; ++c) total = combine(k.reduce, total, parts[c]);
    result[i] = C(finish(k.reduce, total, R));
  }
}

// Row regions: each thread takes whole rows, and every register holds one
// row, so the row is read from memory once and its result written once.
// The body runs in segments, each ending at a row reduction; a segment
// walks the row in tiles, so its steps chain on data in L1 while the row
// itself stays in L2. A per-row value (one per row, after a reduction) is
// computed once and filled across one tile, which every tile reads.
template <class C>
void run_rows(const FusedKernel& k, const void* const* in, NDArray& out) {
  const int64_t n = k.d().row, rows = n ? num_elements(k.d().space) / n : 0;
  const int64_t fill = std::min(kTile, n);
  parallel_for(rows, std::max<int64_t>(1, 4 * kTile / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    thread_local std::vector<C> storage;
    if (storage.size() < size_t(k.d().num_regs * n)) storage.resize(size_t(k.d().num_regs * n));
    C* regs = storage.data();
    auto reg = [&](int r) { return r < 0 ? nullptr : regs + r * n; };
    // A register holding a per-row value is read at its start in every tile.
    auto at = [&](int r, bool per_row, int64_t t) { return r < 0 ? nullptr : reg(r) + (per_row ? 0 : t); };
    for (size_t j = 0; j < k.d().inputs.size(); ++j)
      if (k.d().inputs[j].invariant) load<C>(k, j, in[j], b * n, n, reg(k.d().inputs[j].reg));
    for (int64_t row = b; row < e; ++row) {
      for (size_t seg = 0; seg < k.segments.size(); ++seg) {
        const auto [begin, end] = k.segments[seg];
        const FusedKernel::Instr* red = end < k.code.size() ? &k.code[end] : nullptr;
        Acc acc = start(red ? reduce_kind(red->reduce) : Reduce::Sum);
        for (int64_t t = 0; t < n; t += kTile) {
          const int64_t w = std::min(kTile, n - t);
          // Inputs are loaded tile by tile where first read; later segments find them in their registers.
          for (size_t j = 0; j < k.d().inputs.size(); ++j)
            if (k.input_segment[j] == int(seg)) load<C>(k, j, in[j], row * n + t, w, reg(k.d().inputs[j].reg) + t);
          for (size_t i = begin; i < end; ++i) {
            const FusedKernel::Instr& ins = k.code[i];
            if (ins.per_row) {
              if (t > 0) continue;  // depends only on earlier segments: once per row
              apply<C>(ins, reg(ins.dst), reg(ins.a), reg(ins.b), reg(ins.c), 1);
              std::fill(reg(ins.dst) + 1, reg(ins.dst) + fill, reg(ins.dst)[0]);
            } else {
              apply<C>(ins, reg(ins.dst) + t, at(ins.a, ins.a_row, t), at(ins.b, ins.b_row, t), at(ins.c, ins.c_row, t), w);
            }
          }
          if (red) accumulate(reduce_kind(red->reduce), reg(red->a) + t, w, acc);
          if (k.store_tiles && seg + 1 == k.segments.size())
            store(reg(k.d().value_reg) + t, w, k.d().outputs[0].dtype, out.data(), row * n + t);
        }
        if (red) {
          const C v = C(finish(reduce_kind(red->reduce), acc, n));
          std::fill(reg(red->dst), reg(red->dst) + fill, v);
        }
      }
      if (k.store_tiles) continue;
      if (k.d().row_result) store(reg(k.d().value_reg), 1, k.d().outputs[0].dtype, out.data(), row);
      else store(reg(k.d().value_reg), n, k.d().outputs[0].dtype, out.data(), row * n);
    }
  });
}

template <class C>
void run_typed(const FusedKernel& k, const std::vector<NDArray>& ins, std::vector<NDArray>& outs, void* workspace) {
  // On the stack when they fit: small runs are dominated by such overheads.
  constexpr size_t kOnStack = 32;
  std::array<const void*, kOnStack> in_small;
  std::array<void*, kOnStack> out_small;
  std::vector<const void*> in_large(ins.size() > kOnStack ? ins.size() : 0);
  std::vector<void*> out_large(outs.size() > kOnStack ? outs.size() : 0);
  const void** ptrs = ins.size() > kOnStack ? in_large.data() : in_small.data();
  void** out_ptrs = outs.size() > kOnStack ? out_large.data() : out_small.data();
  for (size_t j = 0; j < ins.size(); ++j) ptrs[j] = ins[j].data();
  for (size_t j = 0; j < outs.size(); ++j) out_ptrs[j] = outs[j].data();
  NDArray& out = outs[0];
  const KernelDesc::Kind kind = k.d().kind;
  if (kind == KernelDesc::Kind::Elementwise) {
    run_range<C>(k, ptrs, out_ptrs, 0, out.size());
    return;
  }
  if constexpr (std::is_floating_point_v<C>) {  // the fuse pass anchors only float reductions and products
    if (kind == KernelDesc::Kind::Reduce) {
      run_reduce<C>(k, ptrs, out);
    } else if (kind == KernelDesc::Kind::Row) {
      run_rows<C>(k, ptrs, out);
    } else {
      // Matmul epilogue: the product lands in the output (or the workspace
      // when the output type differs) and each panel of rows is finished
      // while it is still in cache.
      NDArray product = out.dtype() == k.d().compute ? out : NDArray::wrap(workspace, out.shape(), k.d().compute, nullptr);
      ptrs[k.d().contraction_input] = product.data();
      matmul_op(*k.d().node, ins[0], ins[1], product,
                [&](int64_t begin, int64_t end) { run_range<C>(k, ptrs, out_ptrs, begin, end, false); });
    }
  }
}

}  // namespace

std::shared_ptr<const FusedKernel> compile_fused(std::shared_ptr<const KernelDesc> desc) {
  auto k = std::make_shared<FusedKernel>();
  k->desc = desc;
  const KernelDesc& d = *desc;
  for (const KernelStep& st : d.body) {
    FusedKernel::Instr ins;
    ins.reduce = st.reduce;
    ins.per_row = st.per_row;
    if (st.reduce == Combiner::None) {
      ins.fns = scalar_tile(st.scalar);
      const bool ok = d.compute == DType::Int64 ? ins.fns.i64 != nullptr : ins.fns.f32 != nullptr;
      if (!ok || ins.fns.arity != st.arity)
        throw CompileError(detail::describe(*st.node) + ": the CPU has no " + dtype_name(d.compute) +
                           " form of scalar function '" + st.scalar + "'");
    }
    if (st.round) ins.round = round_tile(st.round_to);
    ins.dst = st.dst;
    ins.a = st.a;
    ins.b = st.b;
    ins.c = st.c;
    k->code.push_back(ins);
  }
  if (d.kind == KernelDesc::Kind::Row) {
    // Which registers hold a per-row value when each step reads them.
    std::vector<bool> row_value(size_t(d.num_regs), false);
    for (FusedKernel::Instr& ins : k->code) {
      auto holds = [&](int r) { return r >= 0 && row_value[size_t(r)]; };
      ins.a_row = holds(ins.a);
      ins.b_row = holds(ins.b);
      ins.c_row = holds(ins.c);
      row_value[size_t(ins.dst)] = ins.per_row || ins.reduce != Combiner::None;
    }
    // Segments: runs of steps, each closed by a row reduction (the last by the end).
    std::vector<int> segment_of(k->code.size());
    for (size_t begin = 0; begin <= k->code.size();) {
      size_t end = begin;
      while (end < k->code.size() && k->code[end].reduce == Combiner::None) ++end;
      for (size_t i = begin; i < std::min(end + 1, k->code.size()); ++i) segment_of[i] = int(k->segments.size());
      k->segments.emplace_back(begin, end);
      if (end >= k->code.size()) break;
      begin = end + 1;
    }
    // Each non-invariant input loads in the first segment that reads it.
    for (const KernelOperand& o : d.inputs) {
      int first = -1;
      for (size_t i = 0; i < k->code.size() && first < 0 && o.reg >= 0 && !o.invariant; ++i) {
        const FusedKernel::Instr& ins = k->code[i];
        if (ins.a == o.reg || ins.b == o.reg || ins.c == o.reg) first = segment_of[i];
      }
      if (o.reg >= 0 && !o.invariant && first < 0) first = int(k->segments.size()) - 1;  // the stored value itself
      k->input_segment.push_back(first);
    }
    // The result stores tile by tile when the last segment computes it across the row.
    int writer = -1;
    for (size_t i = 0; i < k->code.size(); ++i)
      if (k->code[i].dst == d.value_reg) writer = int(i);
    k->store_tiles = !d.row_result && writer >= 0 && segment_of[size_t(writer)] == int(k->segments.size()) - 1 &&
                     !k->code[size_t(writer)].per_row && k->code[size_t(writer)].reduce == Combiner::None;
  }
  if (d.kind == KernelDesc::Kind::Reduce) k->reduce = reduce_kind(d.reduce);
  std::vector<Dims> epilogue_shapes;  // operands of a reduction's epilogue, broadcast against its output
  for (const KernelOperand& o : d.inputs) epilogue_shapes.push_back(o.epilogue && o.reg >= 0 ? o.type.dims : Dims{});
  k->bc_out = make_broadcast(d.outputs[0].dims, epilogue_shapes);
  if (d.kind == KernelDesc::Kind::Matmul && d.outputs[0].dtype != d.compute)
    k->workspace_bytes = num_elements(d.outputs[0].dims) * int64_t(dtype_size(d.compute));
  std::vector<Dims> shapes;  // inputs never loaded (a contraction's operands) take no part
  for (const KernelOperand& o : d.inputs) {
    k->input_dtypes.push_back(o.type.dtype);
    shapes.push_back(o.reg >= 0 && !o.epilogue ? o.type.dims : Dims{});
  }
  k->bc = make_broadcast(d.space, shapes);
  for (const KernelOperand& o : d.inputs) {
    const int64_t n = num_elements(o.type.dims);
    k->input_scalar.push_back(n == 1);
    // Broadcasting that replicates nothing keeps the memory layout.
    k->input_contiguous.push_back(n == num_elements(o.epilogue ? d.outputs[0].dims : d.space));
  }
  return k;
}

void run_fused(const FusedKernel& k, const std::vector<NDArray>& ins, std::vector<NDArray>& outs, void* workspace) {
  if (k.d().compute == DType::Float64) run_typed<double>(k, ins, outs, workspace);
  else if (k.d().compute == DType::Int64) run_typed<int64_t>(k, ins, outs, workspace);
  else run_typed<float>(k, ins, outs, workspace);
}

}  // namespace ts::cpu
