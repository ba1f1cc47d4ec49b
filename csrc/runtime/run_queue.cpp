#include "runtime/run_queue.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace ts {
namespace {

struct RunQueue {
  std::mutex mu;
  std::condition_variable work, idle;
  std::deque<std::function<void()>> jobs;
  int busy = 0;

  RunQueue() {
    // Two runs in flight keep the CPU busy while the next batch is prepared
    // (the double buffering of asynchronous training loops); more queue.
    const unsigned n = std::max(2u, std::min(4u, std::thread::hardware_concurrency()));
    for (unsigned i = 0; i < n; ++i) std::thread([this] { loop(); }).detach();
  }

  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu);
        work.wait(lock, [&] { return !jobs.empty(); });
        job = std::move(jobs.front());
        jobs.pop_front();
        ++busy;
      }
      job();  // jobs catch their own exceptions (they complete a Future)
      job = nullptr;
      std::lock_guard<std::mutex> lock(mu);
      if (--busy == 0 && jobs.empty()) idle.notify_all();
    }
  }
};

// Leaked on purpose: detached workers may still be waiting at exit.
RunQueue& queue() {
  static RunQueue* q = new RunQueue;
  return *q;
}

}  // namespace

void post_run(std::function<void()> job) {
  RunQueue& q = queue();
  {
    std::lock_guard<std::mutex> lock(q.mu);
    q.jobs.push_back(std::move(job));
  }
  q.work.notify_one();
}

void drain_runs() {
  RunQueue& q = queue();
  std::unique_lock<std::mutex> lock(q.mu);
  q.idle.wait(lock, [&] { return q.jobs.empty() && q.busy == 0; });
}

}  // namespace ts
