// Offsets within one arena for blocks with known lifetimes: best fit among
// the free gaps (coalesced when blocks are released), else the arena's end.
// Each operation costs O(log blocks), so planning stays fast for graphs of
// tens of thousands of ops.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <utility>

namespace ts {

class ArenaLayout {
 public:
  // The offset of a new block of `size` bytes.
  int64_t place(int64_t size);
  // Makes the block at `offset` of `size` bytes free again.
  void release(int64_t offset, int64_t size);
  // The arena's size so far: the end of the highest block ever placed.
  int64_t size() const { return end_; }

 private:
  void add_gap(int64_t offset, int64_t size);
  void remove_gap(std::map<int64_t, int64_t>::iterator it);

  std::map<int64_t, int64_t> gaps_;               // offset -> size of free gaps below end_
  std::set<std::pair<int64_t, int64_t>> by_size_;  // (size, offset) of the same gaps
  int64_t end_ = 0;
};

}  // namespace ts
