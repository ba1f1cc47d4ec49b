// A small pool of worker threads for splitting loops across cores.
#pragma once
#include <cstdint>
#include <functional>

namespace ts {

int num_threads();
// Runs fn(begin, end) over [0, n) in chunks of at least `grain`, on the pool
// when it is idle and the work is large enough, else on the calling thread.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace ts
