#include "backends/cpu/indices.h"

#include "ir/scalar_types.h"

namespace ts::cpu {

std::vector<int64_t> checked_indices(const detail::Node& node, const NDArray& idx, int64_t n, const std::string& what) {
  std::vector<int64_t> out(idx.size());
  dispatch_all(idx.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_integral_v<T>) {
      const T* p = idx.data_as<T>();
      for (size_t i = 0; i < out.size(); ++i) out[i] = int64_t(p[i]);
    }
  });
  for (int64_t& v : out) {
    int64_t w = v < 0 ? v + n : v;
    if (w < 0 || w >= n)
      throw ShapeError(detail::describe(node) + ": index " + std::to_string(v) + " is out of range for " + what +
                       " of size " + std::to_string(n));
    v = w;
  }
  return out;
}

}  // namespace ts::cpu
