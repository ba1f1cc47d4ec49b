#include "backends/cpu/movement.h"

#include <cstring>

#include "backends/cpu/broadcast.h"
#include "ir/scalar_types.h"

namespace ts::cpu {
namespace {

// Copies move bytes, so one instantiation per element size serves every dtype.
template <class F>
void dispatch_size(size_t size, F&& f) {
  switch (size) {
    case 1: f(uint8_t{}); break;
    case 2: f(uint16_t{}); break;
    case 4: f(uint32_t{}); break;
    default: f(uint64_t{}); break;
  }
}

template <class T>
T fill_bits(DType dt, double value) {
  T bits{};
  dispatch_all(dt, [&](auto tag) {
    using V = decltype(tag);
    if constexpr (sizeof(V) == sizeof(T)) {
      V v = convert<V>(value);
      std::memcpy(&bits, &v, sizeof(V));
    }
  });
  return bits;
}

}  // namespace

void copy_strided(const NDArray& in, int64_t offset, const Dims& strides, NDArray& out) {
  Broadcast b = make_strided(out.shape(), {strides});
  dispatch_size(dtype_size(in.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T* src = in.data_as<T>() + offset;
    T* dst = out.data_as<T>();
    for_each_row<1>(b, [&](int64_t o, std::array<int64_t, 1> off, int64_t n, std::array<int64_t, 1> st) {
      if (st[0] == 1) std::memcpy(dst + o, src + off[0], n * sizeof(T));
      else for (int64_t i = 0; i < n; ++i) dst[o + i] = src[off[0] + i * st[0]];
    });
  });
}

void fill(NDArray& out, double value) {
  dispatch_size(dtype_size(out.dtype()), [&](auto tag) {
    using T = decltype(tag);
    T bits = fill_bits<T>(out.dtype(), value);
    T* dst = out.data_as<T>();
    parallel_for(out.size(), 1 << 16, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) dst[i] = bits;
    });
  });
}

void gather_maps(const NDArray& in, const IndexMaps& maps, double fill_value, NDArray& out) {
  const int rank = out.rank();
  if (rank == 0) {
    std::memcpy(out.data(), in.data(), out.nbytes());
    return;
  }
  Dims in_strides = contiguous_strides(in.shape());
  const int64_t inner = out.shape()[rank - 1];
  const int64_t rows = inner ? out.size() / inner : 0;
  const std::vector<int64_t>& last = maps[rank - 1];
  dispatch_size(dtype_size(in.dtype()), [&](auto tag) {
    using T = decltype(tag);
    const T bits = fill_bits<T>(out.dtype(), fill_value);
    const T* src = in.data_as<T>();
    T* dst = out.data_as<T>();
    parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(inner, 1)), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t base = 0, rem = r;
        bool outside = false;
        for (int d = rank - 2; d >= 0; --d) {
          int64_t i = rem % out.shape()[d];
          rem /= out.shape()[d];
          int64_t m = maps[d][i];
          if (m < 0) outside = true;
          base += m * in_strides[d];
        }
        T* row = dst + r * inner;
        if (outside) {
          for (int64_t j = 0; j < inner; ++j) row[j] = bits;
          continue;
        }
        for (int64_t j = 0; j < inner; ++j) row[j] = last[j] < 0 ? bits : src[base + last[j]];
      }
    });
  });
}

void scatter_add_maps(const NDArray& dy, const IndexMaps& maps, NDArray& out) {
  fill(out, 0);
  const int rank = dy.rank();
  if (rank == 0) {
    std::memcpy(out.data(), dy.data(), out.nbytes());
    return;
  }
  const Dims out_strides = contiguous_strides(out.shape());
  const int64_t inner = dy.shape()[rank - 1];
  const int64_t rows = inner ? dy.size() / inner : 0;
  // Where no two elements of dy land on one output element (slice, pad,
  // flip: every map is one-to-one), rows are added in parallel.
  bool one_to_one = true;
  for (int d = 0; d < rank && one_to_one; ++d) {
    std::vector<bool> hit(size_t(out.shape()[d]), false);
    for (int64_t m : maps[d])
      if (m >= 0) {
        one_to_one = one_to_one && !hit[size_t(m)];
        hit[size_t(m)] = true;
      }
  }
  const std::vector<int64_t>& last = maps[rank - 1];
  dispatch_all(dy.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using C = compute_t<T>;
    const T* src = dy.data_as<T>();
    T* dst = out.data_as<T>();
    auto add_rows = [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        int64_t base = 0, rest = r;
        bool inside = true;
        for (int d = rank - 2; d >= 0; --d) {
          const int64_t m = maps[d][rest % dy.shape()[d]];
          rest /= dy.shape()[d];
          inside = inside && m >= 0;
          base += m * out_strides[d];
        }
        if (!inside) continue;
        const T* row = src + r * inner;
        for (int64_t j = 0; j < inner; ++j)
          if (last[j] >= 0) dst[base + last[j]] = T(C(dst[base + last[j]]) + C(row[j]));
      }
    };
    if (one_to_one) parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(inner, 1)), add_rows);
    else add_rows(0, rows);
  });
}

}  // namespace ts::cpu
