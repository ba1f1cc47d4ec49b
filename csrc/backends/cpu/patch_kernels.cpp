// CPU kernels of im2col and col2im (ops/patches.cpp). im2col copies each
// window's rows of C channels (contiguous in NHWC); col2im gathers, for each
// image element, the patch entries that copied it, so no two threads write
// the same element and sums come out the same for any thread count.
#include <cstring>

#include "backends/cpu/kernel_table.h"
#include "ir/scalar_types.h"
#include "ops/patches.h"
#include "runtime/thread_pool.h"

namespace ts::cpu {
namespace {

void im2col_kernel(KernelCtx& k) {
  const NDArray& x = k.in[0];
  NDArray& out = k.out[0];
  const int64_t n = x.shape()[0], c = x.shape()[3];
  const PatchGeometry g = patch_geometry(k.node, x.shape()[1], x.shape()[2]);
  const size_t elem = dtype_size(x.dtype()), row = size_t(c) * elem;
  const char* src = static_cast<const char*>(x.data());
  char* dst = static_cast<char*>(out.data());
  const int64_t patch = g.kh * g.kw * c;
  parallel_for(n * g.ho, std::max<int64_t>(1, 4096 / std::max<int64_t>(g.wo * patch, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t img = r / g.ho, oy = r % g.ho;
      for (int64_t ox = 0; ox < g.wo; ++ox) {
        char* p = dst + size_t((r * g.wo + ox) * patch) * elem;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t y = oy * g.sh - g.pt + i * g.dh;
          for (int64_t j = 0; j < g.kw; ++j, p += row) {
            const int64_t xx = ox * g.sw - g.pl + j * g.dw;
            if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) std::memset(p, 0, row);
            else std::memcpy(p, src + size_t(((img * g.h + y) * g.w + xx) * c) * elem, row);
          }
        }
      }
    }
  });
}

// The windows (first, count) along one dimension that cover image position
// `pos` with kernel tap `tap`: none unless the stride lands on it.
inline bool window_of(int64_t pos, int64_t before, int64_t tap, int64_t dil, int64_t stride, int64_t windows,
                      int64_t& at) {
  const int64_t t = pos + before - tap * dil;
  if (t < 0 || t % stride) return false;
  at = t / stride;
  return at < windows;
}

void col2im_kernel(KernelCtx& k) {
  const NDArray& cols = k.in[0];
  NDArray& out = k.out[0];
  const int64_t n = out.shape()[0], h = out.shape()[1], w = out.shape()[2], c = out.shape()[3];
  const PatchGeometry g = patch_geometry(k.node, h, w);
  const int64_t patch = g.kh * g.kw * c;
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (is_float_v<T>) {
      using C = compute_t<T>;
      const T* src = cols.data_as<T>();
      T* dst = out.data_as<T>();
      parallel_for(n * h, std::max<int64_t>(1, 4096 / std::max<int64_t>(w * c * g.kh * g.kw, 1)), [&](int64_t b, int64_t e) {
        std::vector<C> acc(static_cast<size_t>(c));
        for (int64_t r = b; r < e; ++r) {
          const int64_t img = r / h, y = r % h;
          for (int64_t xx = 0; xx < w; ++xx) {
            std::fill(acc.begin(), acc.end(), C(0));
            for (int64_t i = 0; i < g.kh; ++i) {
              int64_t oy;
              if (!window_of(y, g.pt, i, g.dh, g.sh, g.ho, oy)) continue;
              for (int64_t j = 0; j < g.kw; ++j) {
                int64_t ox;
                if (!window_of(xx, g.pl, j, g.dw, g.sw, g.wo, ox)) continue;
                const T* p = src + ((img * g.ho + oy) * g.wo + ox) * patch + (i * g.kw + j) * c;
#pragma omp simd
                for (int64_t ch = 0; ch < c; ++ch) acc[size_t(ch)] += C(p[ch]);
              }
            }
            T* q = dst + ((img * h + y) * w + xx) * c;
            for (int64_t ch = 0; ch < c; ++ch) q[ch] = convert<T>(acc[size_t(ch)]);
          }
        }
      });
    }
  });
}

TS_CPU_KERNEL("im2col", im2col_kernel);
TS_CPU_KERNEL("col2im", col2im_kernel);

}  // namespace
}  // namespace ts::cpu
