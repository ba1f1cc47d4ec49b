// The threads that asynchronous runs and Future callbacks execute on: a few
// workers, separate from the compute pool (whose workers a run occupies) and
// from any backend's completion thread.
#pragma once
#include <functional>

namespace ts {

void post_run(std::function<void()> job);
// Returns once the queue is empty and no job is running.
void drain_runs();

}  // namespace ts
