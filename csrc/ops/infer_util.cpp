#include "ops/infer_util.h"

#include <numeric>

#include <algorithm>

namespace ts {

std::string dims_str(const Dims& dims) {
  std::string s = "(";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  if (dims.size() == 1) s += ",";
  return s + ")";
}

TensorType unranked(DType dt) {
  TensorType t;
  t.ranked = false;
  t.dtype = dt;
  return t;
}

TensorType ranked(Dims dims, DType dt) {
  TensorType t;
  t.dims = std::move(dims);
  t.dtype = dt;
  return t;
}

bool dims_match(const Dims& a, const Dims& b) {
  if (a.size() != b.size()) return false;
  for (size_t d = 0; d < a.size(); ++d)
    if (a[d] != b[d] && a[d] != -1 && b[d] != -1) return false;
  return true;
}

TensorType broadcast(const InferCtx& ctx, const std::vector<TensorType>& types, DType out) {
  size_t rank = 0;
  for (const TensorType& t : types) {
    if (!t.ranked) return unranked(out);
    rank = std::max(rank, t.dims.size());
  }
  Dims dims(rank, 1);
  for (size_t k = 0; k < rank; ++k) {
    int64_t d = 1;
    bool unknown = false;
    for (const TensorType& t : types) {
      if (k + t.dims.size() < rank) continue;
      int64_t v = t.dims[k + t.dims.size() - rank];
      if (v == -1) { unknown = true; continue; }
      if (v == 1) continue;
      if (d != 1 && d != v) {
        std::string shapes;
        for (const TensorType& u : types) shapes += (shapes.empty() ? "" : " and ") + u.str();
        ctx.fail("cannot broadcast shapes " + shapes + " (dimension " + std::to_string(k) +
                 ": " + std::to_string(d) + " vs " + std::to_string(v) + ")");
      }
      d = v;
    }
    dims[k] = (d == 1 && unknown) ? -1 : d;
  }
  return ranked(dims, out);
}

Dims broadcast_dims(const std::vector<Dims>& shapes) {
  size_t rank = 0;
  for (auto& s : shapes) rank = std::max(rank, s.size());
  Dims out(rank, 1);
  for (auto& s : shapes)
    for (size_t k = 0; k < s.size(); ++k) {
      int64_t& o = out[rank - s.size() + k];
      if (s[k] != 1) {
        if (o != 1 && o != s[k]) throw ShapeError("cannot broadcast " + dims_str(s) + " to " + dims_str(out));
        o = s[k];
      }
    }
  return out;
}

int normalize_axis(const InferCtx& ctx, int64_t axis, int rank, const char* what) {
  if (axis < -rank || axis >= rank)
    ctx.fail(std::string(what) + " " + std::to_string(axis) + " is out of range for rank " +
             std::to_string(rank) + " (input " + (ctx.in.empty() ? "" : ctx.in[0].str()) +
             "); expected -" + std::to_string(rank) + " <= " + what + " < " + std::to_string(rank));
  return int(axis < 0 ? axis + rank : axis);
}

std::vector<int> normalize_axes(const InferCtx& ctx, const std::vector<int64_t>& axes, int rank) {
  std::vector<int> out;
  for (int64_t a : axes) out.push_back(normalize_axis(ctx, a, rank));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) ctx.fail("repeated axis in " + dims_str(axes));
  return out;
}

void expect_dtype(const InferCtx& ctx, bool ok, const TensorType& t, const char* expected) {
  if (!ok) ctx.fail<DTypeError>(std::string("got dtype ") + dtype_name(t.dtype) + "; expected " + expected);
}

void check_result(const InferCtx& ctx, const TensorType& t) {
  if (!t.ranked) return;
  if (t.dims.size() > size_t(kMaxRank))
    ctx.fail("result " + t.str() + " has rank " + std::to_string(t.dims.size()) + "; at most " +
             std::to_string(kMaxRank) + " is supported");
  int64_t bytes = int64_t(dtype_size(t.dtype));
  for (int64_t d : t.dims) {
    if (d < 0) continue;
    if (d == 0) return;
    if (__builtin_mul_overflow(bytes, d, &bytes) || bytes > kMaxTensorBytes) bytes = -1;
    if (bytes < 0)
      ctx.fail("result " + t.str() + " would hold more than 2^60 bytes; its size is not representable");
  }
}

int64_t checked_mul(const InferCtx& ctx, int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    ctx.fail("size " + std::to_string(a) + " * " + std::to_string(b) + " overflows 64 bits");
  return r;
}

int64_t checked_add(const InferCtx& ctx, int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    ctx.fail("size " + std::to_string(a) + " + " + std::to_string(b) + " overflows 64 bits");
  return r;
}

std::vector<int> reduced_axes(const InferCtx& c, int rank) {
  if (!c.has("axes")) {
    std::vector<int> all(rank);
    std::iota(all.begin(), all.end(), 0);
    return all;
  }
  return normalize_axes(c, c.ints("axes"), rank);
}

std::vector<int64_t> perm_of(const InferCtx& c, int rank) {
  std::vector<int64_t> perm;
  if (c.has("perm")) perm = c.ints("perm");
  else for (int d = rank - 1; d >= 0; --d) perm.push_back(d);
  std::vector<bool> seen(rank, false);
  bool ok = int(perm.size()) == rank;
  for (size_t d = 0; ok && d < perm.size(); ++d) {
    ok = perm[d] >= -rank && perm[d] < rank;
    if (ok && perm[d] < 0) perm[d] += rank;
    ok = ok && !seen[perm[d]];
    if (ok) seen[perm[d]] = true;
  }
  if (!ok)
    c.fail("perm " + dims_str(c.has("perm") ? c.ints("perm") : perm) + " is not a permutation of the " +
           std::to_string(rank) + " axes of " + c.in[0].str());
  return perm;
}

}  // namespace ts
