// Walking an output and its broadcast inputs row by row, split across threads.
#pragma once
#include <array>
#include <vector>

#include "runtime/thread_pool.h"
#include "tensorstitch/ndarray.h"

namespace ts::cpu {

// Output shape and each input's strides in elements (0 where broadcast),
// with adjacent dimensions merged where every operand allows it.
struct Broadcast {
  Dims shape;
  std::vector<Dims> strides;
};

Broadcast make_broadcast(const Dims& out, const std::vector<Dims>& ins);
// Strides (in elements) of a contiguous `in` read as if broadcast to `out`:
// 0 along dimensions it repeats.
Dims broadcast_strides(const Dims& out, const Dims& in);
// Same, with explicit input strides (for transposed or flipped views).
Broadcast make_strided(const Dims& out, const std::vector<Dims>& strides);

// Calls row(out_offset, in_offsets, n, in_steps) for each innermost row; the
// row covers n output elements starting at out_offset.
template <size_t N, class Row>
void for_each_row(const Broadcast& b, Row&& row) {
  const int rank = int(b.shape.size());
  const int64_t inner = rank ? b.shape[rank - 1] : 1;
  int64_t rows = 1;
  for (int d = 0; d + 1 < rank; ++d) rows *= b.shape[d];
  if (rows == 0 || inner == 0) return;
  std::array<int64_t, N> step{};
  for (size_t k = 0; k < N; ++k) step[k] = rank ? b.strides[k][rank - 1] : 0;
  const int64_t grain = std::max<int64_t>(1, (1 << 14) / inner);
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> idx(rank > 1 ? rank - 1 : 1, 0);
    std::array<int64_t, N> off{};
    for (int64_t r = begin, d = rank - 2; d >= 0; --d) {  // multi-index of row `begin`
      idx[d] = r % b.shape[d];
      r /= b.shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += idx[d] * b.strides[k][d];
    }
    for (int64_t r = begin; r < end; ++r) {
      row(r * inner, off, inner, step);
      for (int d = rank - 2; d >= 0; --d) {  // odometer increment
        for (size_t k = 0; k < N; ++k) off[k] += b.strides[k][d];
        if (++idx[d] < b.shape[d]) break;
        for (size_t k = 0; k < N; ++k) off[k] -= idx[d] * b.strides[k][d];
        idx[d] = 0;
      }
    }
  });
}

// Row-major strides of a contiguous shape, in elements.
Dims contiguous_strides(const Dims& shape);

}  // namespace ts::cpu
