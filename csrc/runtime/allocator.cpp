#include "runtime/allocator.h"

#include <sys/mman.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include "tensorstitch/error.h"

namespace ts {
namespace {

constexpr size_t kCacheFrom = size_t(1) << 20;      // smaller blocks go straight to malloc
constexpr size_t kCacheLimit = size_t(2) << 30;     // most bytes kept while free
constexpr size_t kGranule = size_t(1) << 16;

class BlockCache {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        cached_ -= bytes;
        return p;
      }
    }
    void* p = std::aligned_alloc(64, bytes);
    if (p && bytes >= (size_t(2) << 20)) madvise(p, bytes, MADV_HUGEPAGE);  // fewer TLB misses
    return p;
  }
  void give(void* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (cached_ + bytes <= kCacheLimit) {
        free_.emplace(bytes, p);
        cached_ += bytes;
        return;
      }
    }
    std::free(p);
  }

 private:
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  size_t cached_ = 0;
};

BlockCache& cache() {
  static BlockCache* c = new BlockCache;  // never destroyed: arrays may outlive static teardown
  return *c;
}

}  // namespace

std::shared_ptr<void> allocate_host(size_t bytes) {
  bytes = bytes ? (bytes + 63) / 64 * 64 : 64;
  if (bytes < kCacheFrom) {
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
    return std::shared_ptr<void>(p, std::free);
  }
  bytes = (bytes + kGranule - 1) / kGranule * kGranule;
  void* p = cache().take(bytes);
  if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
  return std::shared_ptr<void>(p, [bytes](void* q) { cache().give(q, bytes); });
}

}  // namespace ts
