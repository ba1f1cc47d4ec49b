// The safetensors format (an 8-byte header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the bytes), written and read for
// the variables of graph files. Reading validates every field and range:
// GraphError on anything malformed.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "tensorstitch/ndarray.h"

namespace ts::detail {

// Host arrays by name, in the order given.
std::string write_safetensors(const std::vector<std::pair<std::string, NDArray>>& tensors);
// `where` names the source in errors.
std::vector<std::pair<std::string, NDArray>> read_safetensors(const char* data, size_t size, const std::string& where);

}  // namespace ts::detail
