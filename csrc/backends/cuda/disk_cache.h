// Compiled kernels on disk, keyed by a hash of their source and target
// architecture, so a new process loads a kernel it compiled before without
// starting NVRTC. The directory is $TENSORSTITCH_CACHE_DIR, else
// $XDG_CACHE_HOME/tensorstitch, else ~/.cache/tensorstitch; an empty
// TENSORSTITCH_CACHE_DIR turns the cache off.
#pragma once
#include <string>

namespace ts::cuda {

// The CUBIN for `source` on `arch` (`exact`: without FMA contraction): from
// the cache, else compiled by NVRTC and stored (a failure to store is not an
// error).
std::string cached_compile(const std::string& source, const std::string& arch, bool exact = false);

}  // namespace ts::cuda
