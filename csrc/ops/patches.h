// The window geometry shared by im2col, col2im and pool2d (ops/patches.cpp,
// ops/pool.cpp) and their kernels.
#pragma once
#include <array>
#include <cstdint>

#include "ir/graph_data.h"

namespace ts {

struct PatchGeometry {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0;  // padding before the rows and the columns
  int64_t h = 0, w = 0;    // the image
  int64_t ho = 0, wo = 0;  // windows down and across (-1 where h or w is)
};

// From a node's attributes, for an image of h x w (-1: unknown); ShapeError
// naming the node for bad attributes or a kernel larger than the padded image.
PatchGeometry patch_geometry(const detail::Node& n, int64_t h, int64_t w);

// pool2d's view of an image (ops/pool.cpp): its layout, mode and windows.
struct PoolShape {
  bool nchw = true, max = true;
  int64_t n = 0, c = 0;
  PatchGeometry g;
  // Element strides of the batch, channel, row and column dimensions of an
  // image of `rows` x `cols` in this layout.
  std::array<int64_t, 4> strides(int64_t rows, int64_t cols) const {
    return nchw ? std::array<int64_t, 4>{c * rows * cols, rows * cols, cols, 1}
                : std::array<int64_t, 4>{rows * cols * c, 1, cols * c, c};
  }
};
// From a pool2d node's attributes and its input's shape; ShapeError naming
// the node for a bad layout, mode or window.
PoolShape pool_shape(const detail::Node& n, const Dims& x);

}  // namespace ts
