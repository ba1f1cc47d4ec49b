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
    const Dims& shape = k.bc.shape;
    const Dims& st = k.bc.strides[j];
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
template <class C>
const C* evaluate(const FusedKernel& k, const std::vector<const void*>& in, int64_t s, int64_t n, C* regs) {
  for (size_t j = 0; j < k.inputs.size(); ++j)
    if (k.input_regs[j] >= 0) load<C>(k, j, in[j], s, n, regs + k.input_regs[j] * kTile);
  auto reg = [&](int r) { return r < 0 ? nullptr : regs + r * kTile; };
  for (const FusedKernel::Instr& ins : k.code) {
    if constexpr (std::is_same_v<C, float>) ins.fns.f32(reg(ins.dst), reg(ins.a), reg(ins.b), reg(ins.c), n);
    else ins.fns.f64(reg(ins.dst), reg(ins.a), reg(ins.b), reg(ins.c), n);
  }
  return regs + k.value_reg * kTile;
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

// Elementwise over [begin, end) of the iteration space, in parallel tiles.
template <class C>
void run_range(const FusedKernel& k, const std::vector<const void*>& in, void* out, int64_t begin, int64_t end,
               bool parallel = true) {
  const int64_t tiles = (end - begin + kTile - 1) / kTile;
  parallel_for(tiles, parallel ? 4 : tiles, [&](int64_t tb, int64_t te) {
    C* regs = thread_registers<C>(k.num_regs);
    for (int64_t t = tb; t < te; ++t) {
      const int64_t s = begin + t * kTile, n = std::min(kTile, end - s);
      store(evaluate<C>(k, in, s, n, regs), n, k.out_dtype, out, s);
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
Acc reduce_span(const FusedKernel& k, const std::vector<const void*>& in, int64_t s, int64_t e, C* regs) {
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
void run_reduce(const FusedKernel& k, const std::vector<const void*>& in, NDArray& out) {
  const int64_t rows = out.size(), R = k.row;
  C* result = out.data_as<C>();
  if (rows >= 2 * num_threads() || R <= kTile) {
    parallel_for(rows, std::max<int64_t>(1, 4 * kTile / std::max<int64_t>(R, 1)), [&](int64_t b, int64_t e) {
      C* regs = thread_registers<C>(k.num_regs);
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
      C* regs = thread_registers<C>(k.num_regs);
      for (int64_t c = b; c < e; ++c)
        parts[c] = reduce_span<C>(k, in, i * R + std::min(R, c * span), i * R + std::min(R, (c + 1) * span), regs);
    });
    Acc total = parts[0];
    for (int64_t c = 1; c < chunks; ++c) total = combine(k.reduce, total, parts[c]);
    result[i] = C(finish(k.reduce, total, R));
  }
}

// One row's reduction of register v (n values), as the reduction regions do it.
template <class C>
C reduce_row(Reduce r, const C* v, int64_t n) {
  Acc acc = start(r);
  for (int64_t t = 0; t < n; t += kTile) accumulate(r, v + t, std::min(kTile, n - t), acc);
  return C(finish(r, acc, n));
}

// Row regions: each thread takes whole rows; every register holds one row
// (a per-row value is filled across it), so the row is read once and its
// result written once.
template <class C>
void run_rows(const FusedKernel& k, const std::vector<const void*>& in, NDArray& out) {
  const int64_t n = k.row, rows = n ? num_elements(k.shape) / n : 0;
  parallel_for(rows, std::max<int64_t>(1, 4 * kTile / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    thread_local std::vector<C> storage;
    if (storage.size() < size_t(k.num_regs * n)) storage.resize(size_t(k.num_regs * n));
    C* regs = storage.data();
    auto reg = [&](int r) { return r < 0 ? nullptr : regs + r * n; };
    for (size_t j = 0; j < k.inputs.size(); ++j)
      if (k.input_invariant[j]) load<C>(k, j, in[j], b * n, n, reg(k.input_regs[j]));
    for (int64_t row = b; row < e; ++row) {
      for (size_t j = 0; j < k.inputs.size(); ++j)
        if (k.input_regs[j] >= 0 && !k.input_invariant[j]) load<C>(k, j, in[j], row * n, n, reg(k.input_regs[j]));
      for (const FusedKernel::Instr& ins : k.code) {
        // A per-row value is computed once, from element 0 of its (filled) operands.
        const int64_t width = ins.per_row ? 1 : n;
        if (ins.reduce != Combiner::None) {
          reg(ins.dst)[0] = reduce_row<C>(reduce_kind(ins.reduce), reg(ins.a), n);
        } else if constexpr (std::is_same_v<C, float>) {
          ins.fns.f32(reg(ins.dst), reg(ins.a), reg(ins.b), reg(ins.c), width);
        } else {
          ins.fns.f64(reg(ins.dst), reg(ins.a), reg(ins.b), reg(ins.c), width);
        }
        if (ins.per_row) std::fill(reg(ins.dst) + 1, reg(ins.dst) + n, reg(ins.dst)[0]);
      }
      if (k.row_result) store(reg(k.value_reg), 1, k.out_dtype, out.data(), row);
      else store(reg(k.value_reg), n, k.out_dtype, out.data(), row * n);
    }
  });
}

template <class C>
void run_typed(const FusedKernel& k, const std::vector<NDArray>& ins, NDArray& out) {
  std::vector<const void*> ptrs;
  for (const NDArray& a : ins) ptrs.push_back(a.data());
  if (k.kind == Region::Kind::Reduce) {
    run_reduce<C>(k, ptrs, out);
    return;
  }
  if (k.kind == Region::Kind::Row) {
    run_rows<C>(k, ptrs, out);
    return;
  }
  if (k.kind == Region::Kind::Elementwise) {
    run_range<C>(k, ptrs, out.data(), 0, out.size());
    return;
  }
  // Matmul epilogue: the product lands in the output (or a scratch buffer
  // when the output type differs) and each panel of rows is finished while
  // it is still in cache.
  const bool in_place = out.dtype() == k.compute;
  NDArray product = in_place ? out : NDArray(out.shape(), k.compute);
  ptrs[k.matmul_input] = product.data();
  matmul_op(*k.matmul, ins[0], ins[1], product,
            [&](int64_t begin, int64_t end) { run_range<C>(k, ptrs, out.data(), begin, end, false); });
}

}  // namespace

std::shared_ptr<const FusedKernel> compile_region(const Program& p, const Region& r) {
  auto k = std::make_shared<FusedKernel>();
  k->kind = r.kind;
  k->compute = r.compute;
  const detail::Node& root = p.node(r.root);
  std::set<int> external;  // tensors read from memory
  std::map<int, int> last_use;
  std::vector<const detail::Node*> body;
  for (int id : r.nodes) {
    const detail::Node& n = p.node(id);
    if (id == r.anchor) continue;
    body.push_back(&n);
  }
  if (r.kind == Region::Kind::Matmul) {
    k->matmul = &p.node(r.anchor);
    for (int t : k->matmul->inputs) {
      k->inputs.push_back(p.resolve(t));
      k->input_dtypes.push_back(p.types.at(p.resolve(t)).dtype);
    }
  }
  std::set<int> produced;
  for (const detail::Node* n : body) produced.insert(n->outputs[0]);
  // External inputs (the matmul's result counts as one), each read once.
  auto add_input = [&](int t) {
    if (produced.count(t) || !external.insert(t).second) return;
    k->inputs.push_back(t);
    k->input_dtypes.push_back(p.types.at(t).dtype);
    if (k->matmul && t == k->matmul->outputs[0]) k->matmul_input = int(k->inputs.size()) - 1;
  };
  for (const detail::Node* n : body)
    for (int t : n->inputs) add_input(p.resolve(t));
  const int value_tensor = r.kind == Region::Kind::Reduce ? p.resolve(root.inputs[0]) : root.outputs[0];
  add_input(value_tensor);
  k->shape = r.kind == Region::Kind::Reduce ? p.types.at(value_tensor).dims
             : r.kind == Region::Kind::Row    ? r.space
                                              : p.types.at(root.outputs[0]).dims;
  if (r.kind == Region::Kind::Row) {
    k->row = k->shape.back();
    k->row_result = p.types.at(root.outputs[0]).dims != r.space;
  }

  // Registers: inputs first, then one per result, reused after a last use.
  for (size_t i = 0; i < body.size(); ++i)
    for (int t : body[i]->inputs) last_use[p.resolve(t)] = int(i);
  last_use[value_tensor] = int(body.size());
  std::vector<int> free_regs;
  int next = 0;
  auto take = [&]() {
    if (free_regs.empty()) return next++;
    int r2 = free_regs.back();
    free_regs.pop_back();
    return r2;
  };
  std::map<int, int> reg;  // tensor -> register
  // Row regions: an input that is the same for every row (a scalar, or a
  // vector along the last axis, such as layer norm's gamma) is loaded once
  // per thread and its register is never reused.
  std::set<int> invariant;
  for (size_t j = 0; j < k->inputs.size(); ++j) {
    const int t = k->inputs[j];
    const bool used = external.count(t) && (last_use.count(t) || t == value_tensor);
    k->input_regs.push_back(used ? take() : -1);
    if (used) reg[t] = k->input_regs.back();
    const Dims& dims = p.types.at(t).dims;
    const bool same_each_row = num_elements(dims) == (dims.empty() ? 1 : dims.back());
    k->input_invariant.push_back(r.kind == Region::Kind::Row && used && same_each_row);
    if (k->input_invariant.back()) invariant.insert(k->input_regs.back());
  }
  for (size_t i = 0; i < body.size(); ++i) {
    const detail::Node& n = *body[i];
    FusedKernel::Instr ins;
    if (n.def->reduction != Combiner::None) ins.reduce = n.def->reduction;  // Row regions only
    else ins.fns = n.def->tile(n);
    ins.per_row = r.kind == Region::Kind::Row && p.types.at(n.outputs[0]).dims != r.space;
    int* args[3] = {&ins.a, &ins.b, &ins.c};
    for (size_t a = 0; a < n.inputs.size(); ++a) *args[a] = reg.at(p.resolve(n.inputs[a]));
    for (int t : n.inputs)
      if (last_use[p.resolve(t)] == int(i) && p.resolve(t) != value_tensor && !invariant.count(reg.at(p.resolve(t)))) {
        const int freed = reg.at(p.resolve(t));
        if (std::find(free_regs.begin(), free_regs.end(), freed) == free_regs.end()) free_regs.push_back(freed);
      }
    ins.dst = take();
    reg[n.outputs[0]] = ins.dst;
    k->code.push_back(ins);
    k->ops.push_back(n.type);
  }
  k->num_regs = next;
  k->value_reg = reg.at(value_tensor);
  k->out_dtype = p.types.at(root.outputs[0]).dtype;
  if (r.kind == Region::Kind::Reduce) {
    k->reduce = reduce_kind(root.def->reduction);
    const int64_t total = num_elements(k->shape), outs = num_elements(p.types.at(root.outputs[0]).dims);
    k->row = outs ? total / outs : 0;
    k->ops.push_back(root.type);
  }
  if (k->matmul) k->ops.insert(k->ops.begin(), "matmul");

  std::vector<Dims> shapes;  // inputs never loaded (a matmul's operands) take no part
  for (size_t j = 0; j < k->inputs.size(); ++j)
    shapes.push_back(k->input_regs[j] >= 0 ? p.types.at(k->inputs[j]).dims : Dims{});
  k->bc = make_broadcast(k->shape, shapes);
  const Dims full = contiguous_strides(k->shape);
  for (size_t j = 0; j < k->inputs.size(); ++j) {
    const Dims& s = shapes[j];
    k->input_scalar.push_back(num_elements(s) == 1);
    // Broadcasting that replicates nothing keeps the memory layout.
    k->input_contiguous.push_back(num_elements(s) == num_elements(k->shape));
  }
  return k;
}

void run_fused(const FusedKernel& k, const std::vector<NDArray>& ins, NDArray& out) {
  if (k.compute == DType::Float64) run_typed<double>(k, ins, out);
  else run_typed<float>(k, ins, out);
}

}  // namespace ts::cpu
