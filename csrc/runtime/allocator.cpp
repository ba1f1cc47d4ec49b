#include "runtime/allocator.h"

#include <atomic>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "tensorstitch/error.h"

namespace ts {
namespace {

constexpr size_t kLargeFrom = size_t(1) << 20;  // smaller blocks go straight to malloc
constexpr size_t kDefaultCacheMax = size_t(1) << 30;

// Large blocks come in four size classes per power of two (at most 25%
// slack), so a block freed by one shape serves the next shape of about the
// same size.
size_t size_class(size_t bytes) {
  size_t top = size_t(1) << (63 - __builtin_clzll(bytes));
  const size_t step = top / 4;
  return (bytes + step - 1) / step * step;
}

// The most bytes kept while free: TENSORSTITCH_HOST_CACHE_MB, else 1/16 of
// physical memory and at most 1 GiB.
size_t cache_limit() {
  if (const char* env = std::getenv("TENSORSTITCH_HOST_CACHE_MB")) return size_t(std::strtoull(env, nullptr, 10)) << 20;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  const size_t phys = pages > 0 && page > 0 ? size_t(pages) * size_t(page) : kDefaultCacheMax * 16;
  return std::min(kDefaultCacheMax, phys / 16);
}

// Freed large blocks, mapped straight from the OS (so unmapping really gives
// the memory back), kept for reuse up to a byte limit; past it, the least
// recently freed blocks are unmapped first.
class BlockCache {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = by_size_.find(bytes);
      if (it != by_size_.end()) {
        void* p = it->second->p;
        lru_.erase(it->second);
        by_size_.erase(it);
        cached_ -= bytes;
        return p;
      }
    }
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    if (bytes >= (size_t(2) << 20)) madvise(p, bytes, MADV_HUGEPAGE);  // fewer TLB misses
    return p;
  }

  void give(void* p, size_t bytes) {
    std::list<Block> evicted;
    {
      std::lock_guard<std::mutex> l(mu_);
      lru_.push_front({bytes, p});
      by_size_.emplace(bytes, lru_.begin());
      cached_ += bytes;
      while (cached_ > limit_) {
        auto last = std::prev(lru_.end());
        auto range = by_size_.equal_range(last->bytes);
        for (auto it = range.first; it != range.second; ++it)
          if (it->second == last) {
            by_size_.erase(it);
            break;
          }
        cached_ -= last->bytes;
        evicted.splice(evicted.end(), lru_, last);
      }
    }
    for (const Block& b : evicted) munmap(b.p, b.bytes);  // outside the lock
  }

 private:
  struct Block {
    size_t bytes;
    void* p;
  };
  std::mutex mu_;
  std::list<Block> lru_;  // most recently freed first
  std::unordered_multimap<size_t, std::list<Block>::iterator> by_size_;
  size_t cached_ = 0;
  const size_t limit_ = cache_limit();
};

BlockCache& cache() {
  static BlockCache* c = new BlockCache;  // never destroyed: arrays may outlive static teardown
  return *c;
}

[[noreturn]] void out_of_memory(size_t bytes) {
  throw Error("out of memory allocating " + std::to_string(bytes) + " bytes of host memory");
}

std::atomic<uint64_t> host_allocations{0};

}  // namespace

uint64_t host_allocation_count() { return host_allocations.load(); }

std::shared_ptr<void> allocate_host(size_t bytes) {
  host_allocations.fetch_add(1, std::memory_order_relaxed);
  if (bytes > (size_t(1) << 62)) out_of_memory(bytes);
  bytes = bytes ? (bytes + 63) / 64 * 64 : 64;
  if (bytes < kLargeFrom) {
    void* p = std::aligned_alloc(64, bytes);
    if (!p) out_of_memory(bytes);
    return std::shared_ptr<void>(p, std::free);
  }
  bytes = size_class(bytes);
  void* p = cache().take(bytes);
  if (!p) out_of_memory(bytes);
  return std::shared_ptr<void>(p, [bytes](void* q) { cache().give(q, bytes); });
}

}  // namespace ts
