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
  const bool nchw = patches_nchw(k.node);
  const int64_t n = x.shape()[0], c = x.shape()[nchw ? 1 : 3];
  const PatchGeometry g = patch_geometry(k.node, x.shape()[nchw ? 2 : 1], x.shape()[nchw ? 3 : 2]);
  const size_t elem = dtype_size(x.dtype()), row = size_t(c) * elem;
  // Where channel 0 of pixel (img, y, x) is, and how far apart channels are.
  const int64_t plane = g.h * g.w, channel_step = nchw ? plane : 1;
  auto pixel = [&](int64_t img, int64_t y, int64_t xx) { return nchw ? img * c * plane + y * g.w + xx : (img * plane + y * g.w + xx) * c; };
  const char* src = static_cast<const char*>(x.data());
  char* dst = static_cast<char*>(out.data());
  const int64_t patch = g.kh * g.kw * c;
  // NCHW: a tap's channels are a plane apart; copied as elements of their size.
  auto gather = [elem](char* to, const char* from, int64_t count, int64_t step) {
    auto copy = [&](auto tag) {
      using U = decltype(tag);
      U* t = reinterpret_cast<U*>(to);
      const U* f = reinterpret_cast<const U*>(from);
      for (int64_t ch = 0; ch < count; ++ch) t[ch] = f[ch * step];
    };
    if (elem == 8) copy(uint64_t());
    else if (elem == 4) copy(uint32_t());
    else if (elem == 2) copy(uint16_t());
    else copy(uint8_t());
  };
  parallel_for(n * g.ho, std::max<int64_t>(1, 4096 / std::max<int64_t>(g.wo * patch, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t img = r / g.ho, oy = r % g.ho;
      for (int64_t ox = 0; ox < g.wo; ++ox) {
        char* p = dst + size_t((r * g.wo + ox) * patch) * elem;
        for (int64_t i = 0; i < g.kh; ++i) {
          const int64_t y = oy * g.sh - g.pt + i * g.dh;
          for (int64_t j = 0; j < g.kw; ++j, p += row) {
            const int64_t xx = ox * g.sw - g.pl + j * g.dw;
            if (y < 0 || y >= g.h || xx < 0 || xx >= g.w) {
              std::memset(p, 0, row);
            } else if (!nchw) {
              std::memcpy(p, src + size_t(pixel(img, y, xx)) * elem, row);
            } else {
              gather(p, src + size_t(pixel(img, y, xx)) * elem, c, channel_step);
            }
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
  const bool nchw = patches_nchw(k.node);
  const Dims& os = out.shape();
  const int64_t n = os[0], h = os[nchw ? 2 : 1], w = os[nchw ? 3 : 2], c = os[nchw ? 1 : 3];
  const PatchGeometry g = patch_geometry(k.node, h, w);
  const int64_t patch = g.kh * g.kw * c, channel_step = nchw ? h * w : 1;
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
            T* q = dst + (nchw ? img * c * h * w + y * w + xx : ((img * h + y) * w + xx) * c);
            for (int64_t ch = 0; ch < c; ++ch) q[ch * channel_step] = convert<T>(acc[size_t(ch)]);
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
