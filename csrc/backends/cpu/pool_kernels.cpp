// CPU kernels of pool2d and pool2d_grad (ops/pool.cpp). Work is split by
// image plane (NCHW: one channel of one image; NHWC: one image), so the
// gradient scatters each window's share into its own plane without races,
// in a fixed order: the first maximum of a window (in tap order; NaN wins)
// takes its gradient, a mean shares it by the window's count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "backends/cpu/kernel_table.h"
#include "ir/scalar_types.h"
#include "ops/patches.h"
#include "runtime/thread_pool.h"

namespace ts::cpu {
namespace {

// Per window along one dimension: its first position and the taps [lo, hi)
// that fall inside the image.
struct Span {
  std::vector<int64_t> start, lo, hi;
};

Span spans(int64_t windows, int64_t stride, int64_t before, int64_t dil, int64_t taps, int64_t size) {
  Span s;
  for (int64_t o = 0; o < windows; ++o) {
    const int64_t start = o * stride - before;
    s.start.push_back(start);
    s.lo.push_back(start >= 0 ? 0 : (-start + dil - 1) / dil);
    s.hi.push_back(size - start <= 0 ? 0 : std::min<int64_t>(taps, (size - start + dil - 1) / dil));
  }
  return s;
}

// Runs fn(plane of x, plane of the pooled, channels in the plane) per plane.
template <class T, class U, class F>
void for_each_plane(const PoolShape& p, T* x, U* pooled, F fn) {
  const PatchGeometry& g = p.g;
  const int64_t planes = p.nchw ? p.n * p.c : p.n, in = g.h * g.w * (p.nchw ? 1 : p.c),
                out = g.ho * g.wo * (p.nchw ? 1 : p.c);
  parallel_for(planes, std::max<int64_t>(1, 4096 / std::max<int64_t>(in, 1)), [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) fn(x + u * in, pooled + u * out, p.nchw ? int64_t(1) : p.c);
  });
}

// Visits the windows tap by tap (tap-major, so the inner loop runs along a
// row of windows with fixed strides and no bounds tests): fn(window, offset
// of the tap in the plane) for every window and every tap of it inside the
// image, taps in row-major order per window.
struct Taps {
  const PatchGeometry& g;
  Span rows, cols;
  int64_t sy, sx, channels;
  Taps(const PoolShape& p)
      : g(p.g),
        rows(spans(p.g.ho, p.g.sh, p.g.pt, p.g.dh, p.g.kh, p.g.h)),
        cols(spans(p.g.wo, p.g.sw, p.g.pl, p.g.dw, p.g.kw, p.g.w)),
        sy(p.g.w * (p.nchw ? 1 : p.c)),
        sx(p.nchw ? 1 : p.c),
        channels(p.nchw ? 1 : p.c) {}
  template <class F>
  void each(F fn) const {
    if (channels == 1) visit<true>(fn);  // NCHW: no channel loop inside the row loop
    else visit<false>(fn);
  }
  template <bool kOne, class F>
  void visit(F& fn) const {
    for (int64_t oy = 0; oy < g.ho; ++oy)
      for (int64_t i = rows.lo[size_t(oy)]; i < rows.hi[size_t(oy)]; ++i) {
        const int64_t row = (rows.start[size_t(oy)] + i * g.dh) * sy;
        for (int64_t j = 0; j < g.kw; ++j) {
          // The windows of this row whose tap j lands inside the image.
          int64_t first = 0, last = g.wo;
          while (first < last && cols.start[size_t(first)] + j * g.dw < 0) ++first;
          while (last > first && cols.start[size_t(last - 1)] + j * g.dw >= g.w) --last;
          for (int64_t ox = first; ox < last; ++ox) {
            const int64_t window = (oy * g.wo + ox) * channels, at = row + (cols.start[size_t(ox)] + j * g.dw) * sx;
            if constexpr (kOne) fn(window, at);
            else
              for (int64_t ch = 0; ch < channels; ++ch) fn(window + ch, at + ch);
          }
        }
      }
  }
  int64_t count(int64_t window) const {
    const int64_t w = window / channels, oy = w / g.wo, ox = w % g.wo;
    return std::max<int64_t>(0, rows.hi[size_t(oy)] - rows.lo[size_t(oy)]) *
           std::max<int64_t>(0, cols.hi[size_t(ox)] - cols.lo[size_t(ox)]);
  }
  int64_t windows() const { return g.ho * g.wo * channels; }
};

// take ? a : b without a branch (comparisons of data mispredict half the
// time, and compilers turn a plain ?: back into a jump).
template <class V>
V pick(bool take, V a, V b) {
  using U = std::conditional_t<sizeof(V) == 4, uint32_t, uint64_t>;
  static_assert(sizeof(V) == sizeof(U));
  const U mask = U(0) - U(take);
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(V));
  std::memcpy(&ub, &b, sizeof(V));
  const U r = (ua & mask) | (ub & ~mask);
  V out;
  std::memcpy(&out, &r, sizeof(V));
  return out;
}

// Per window: its maximum (NaN wins) and, where `at` is given, the offset
// of its first occurrence in tap order (-1 for a window over padding
// alone).
template <class T, class C>
void window_maxima(const T* x, const Taps& taps, std::vector<C>& best, std::vector<int64_t>* at) {
  best.assign(size_t(taps.windows()), C(-INFINITY));
  if (!at) {
    std::vector<unsigned char> nan(size_t(taps.windows()), 0);
    taps.each([&](int64_t w, int64_t off) {
      const C v = C(x[off]);
      best[size_t(w)] = std::max(best[size_t(w)], v);  // maxss: no branch
      nan[size_t(w)] |= v != v;
    });
    for (size_t w = 0; w < nan.size(); ++w)
      if (nan[w]) best[w] = C(NAN);
    return;
  }
  at->assign(size_t(taps.windows()), -1);
  taps.each([&](int64_t w, int64_t off) {
    const C v = C(x[off]);
    C& m = best[size_t(w)];
    int64_t& a = (*at)[size_t(w)];
    const bool take = (a < 0) | (v > m) | ((v != v) & (m == m));
    m = pick(take, v, m);
    a = pick(take, off, a);
  });
}

void pool_kernel(KernelCtx& k) {
  const PoolShape p = pool_shape(k.node, k.in[0].shape());
  const Taps taps(p);
  dispatch_all(k.in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      using C = compute_t<T>;
      for_each_plane(p, k.in[0].data_as<T>(), k.out[0].data_as<T>(), [&](const T* x, T* y, int64_t) {
        std::vector<C> value;
        if (p.max) {
          window_maxima(x, taps, value, static_cast<std::vector<int64_t>*>(nullptr));
        } else {
          value.assign(size_t(taps.windows()), C(0));
          taps.each([&](int64_t w, int64_t off) { value[size_t(w)] += C(x[off]); });
          for (int64_t w = 0; w < taps.windows(); ++w) value[size_t(w)] /= C(taps.count(w));
        }
        for (int64_t w = 0; w < taps.windows(); ++w) y[w] = convert<T>(value[size_t(w)]);
      });
    }
  });
}

void pool_grad_kernel(KernelCtx& k) {
  const PoolShape p = pool_shape(k.node, k.in[0].shape());
  const Taps taps(p);
  const int64_t plane = p.g.h * p.g.w * (p.nchw ? 1 : p.c);
  dispatch_all(k.in[0].dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      using C = compute_t<T>;
      const T* x0 = k.in[0].data_as<T>();
      T* dx0 = k.out[0].data_as<T>();
      for_each_plane(p, x0, k.in[1].data_as<T>(), [&](const T* x, const T* dy, int64_t) {
        std::vector<C> acc(static_cast<size_t>(plane), C(0)), best;
        std::vector<int64_t> at;
        if (p.max) {
          window_maxima(x, taps, best, &at);
          for (int64_t w = 0; w < taps.windows(); ++w)
            if (at[size_t(w)] >= 0) acc[size_t(at[size_t(w)])] += C(dy[w]);
        } else {
          taps.each([&](int64_t w, int64_t off) { acc[size_t(off)] += C(dy[w]) / C(taps.count(w)); });
        }
        T* dx = dx0 + (x - x0);
        for (int64_t e = 0; e < plane; ++e) dx[e] = convert<T>(acc[size_t(e)]);
      });
    }
  });
}

TS_CPU_KERNEL("pool2d", pool_kernel);
TS_CPU_KERNEL("pool2d_grad", pool_grad_kernel);

}  // namespace
}  // namespace ts::cpu
