// Host memory for arrays. Large blocks are cached when freed and handed out
// again, so steady-state runs touch no fresh pages (first-touch page faults
// cost more than the kernels that fill them); the cache is bounded
// (TENSORSTITCH_HOST_CACHE_MB) and gives memory back to the OS past that.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

namespace ts {

// 64-byte aligned; the shared_ptr's deleter returns the block to the cache.
std::shared_ptr<void> allocate_host(size_t bytes);
// Calls to allocate_host so far (tests check that runs allocate only their outputs).
uint64_t host_allocation_count();

}  // namespace ts
