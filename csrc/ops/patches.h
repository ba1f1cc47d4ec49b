// The window geometry shared by im2col and col2im (ops/patches.cpp) and
// their kernels.
#pragma once
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

}  // namespace ts
