#include "backends/cpu/broadcast.h"

#include <string>

#include "tensorstitch/error.h"

namespace ts::cpu {

Dims contiguous_strides(const Dims& shape) {
  Dims s(shape.size(), 1);
  for (int d = int(shape.size()) - 2; d >= 0; --d) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

Broadcast make_strided(const Dims& out, const std::vector<Dims>& strides) {
  Broadcast b;
  b.strides.resize(strides.size());
  for (size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;  // size-1 dims never move an offset
    bool merge = !b.shape.empty();
    for (size_t k = 0; merge && k < strides.size(); ++k)
      merge = b.strides[k].back() == strides[k][d] * out[d];
    if (merge) {
      b.shape.back() *= out[d];
      for (size_t k = 0; k < strides.size(); ++k) b.strides[k].back() = strides[k][d];
    } else {
      b.shape.push_back(out[d]);
      for (size_t k = 0; k < strides.size(); ++k) b.strides[k].push_back(strides[k][d]);
    }
  }
  return b;
}

Dims broadcast_strides(const Dims& out, const Dims& in) {
  if (in.size() > out.size())
    throw ShapeError("internal: cannot broadcast " + std::to_string(in.size()) + " dims to " + std::to_string(out.size()));
  Dims s(out.size(), 0);
  const Dims cs = contiguous_strides(in);
  const size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) s[lead + d] = in[d] == 1 ? 0 : cs[d];
  return s;
}

Broadcast make_broadcast(const Dims& out, const std::vector<Dims>& ins) {
  std::vector<Dims> strides;
  for (const Dims& in : ins) strides.push_back(broadcast_strides(out, in));
  return make_strided(out, strides);
}

}  // namespace ts::cpu
