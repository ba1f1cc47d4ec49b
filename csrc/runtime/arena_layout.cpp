#include "runtime/arena_layout.h"

#include "tensorstitch/error.h"

namespace ts {

void ArenaLayout::add_gap(int64_t offset, int64_t size) {
  gaps_[offset] = size;
  by_size_.insert({size, offset});
}

void ArenaLayout::remove_gap(std::map<int64_t, int64_t>::iterator it) {
  by_size_.erase({it->second, it->first});
  gaps_.erase(it);
}

int64_t ArenaLayout::place(int64_t size) {
  auto best = by_size_.lower_bound({size, INT64_MIN});
  if (best != by_size_.end()) {
    const auto [gap, at] = *best;
    remove_gap(gaps_.find(at));
    if (gap > size) add_gap(at + size, gap - size);
    return at;
  }
  // No gap fits: grow the arena, starting inside a gap that ends at its end.
  int64_t at = end_;
  if (!gaps_.empty()) {
    auto last = std::prev(gaps_.end());
    if (last->first + last->second == end_) {
      at = last->first;
      remove_gap(last);
    }
  }
  if (__builtin_add_overflow(at, size, &end_))
    throw Error("out of memory: the executable needs more than 2^63 bytes");
  return at;
}

void ArenaLayout::release(int64_t offset, int64_t size) {
  auto next = gaps_.lower_bound(offset);
  if (next != gaps_.end() && next->first == offset + size) {
    size += next->second;
    remove_gap(next);
  }
  auto after = gaps_.lower_bound(offset);
  if (after != gaps_.begin()) {
    auto prev = std::prev(after);
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      size += prev->second;
      remove_gap(prev);
    }
  }
  add_gap(offset, size);
}

}  // namespace ts
