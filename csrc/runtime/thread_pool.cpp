#include "runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace ts {
namespace {

// Workers wait for a job; the caller takes part and waits for the rest. One
// job at a time: a second caller that finds the pool busy runs serially, so
// concurrent runs from several threads never queue behind each other.
class Pool {
 public:
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) workers_.emplace_back([this] { work(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return int(workers_.size()) + 1; }

  bool try_run(int64_t chunks, const std::function<void(int64_t)>& fn) {
    bool expected = false;
    if (!busy_.compare_exchange_strong(expected, true)) return false;
    {
      std::lock_guard<std::mutex> l(mu_);
      job_ = &fn;
      chunks_ = chunks;
      next_.store(0);
      done_ = 0;
      ++generation_;
    }
    cv_.notify_all();
    drain();
    std::exception_ptr error;
    {
      std::unique_lock<std::mutex> l(mu_);
      done_cv_.wait(l, [&] { return done_ == chunks_; });
      job_ = nullptr;
      std::swap(error, error_);
    }
    busy_.store(false);
    if (error) std::rethrow_exception(error);  // on the caller's thread, never a worker's
    return true;
  }

 private:
  void drain() {
    int64_t finished = 0;
    for (int64_t c; (c = next_.fetch_add(1)) < chunks_;) {
      try {
        (*job_)(c);
      } catch (...) {
        std::lock_guard<std::mutex> l(mu_);
        if (!error_) error_ = std::current_exception();
      }
      ++finished;
    }
    if (finished) {
      std::lock_guard<std::mutex> l(mu_);
      done_ += finished;
      if (done_ == chunks_) done_cv_.notify_all();
    }
  }
  void work() {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return stop_ || (generation_ != seen && job_ != nullptr); });
        if (stop_) return;
        seen = generation_;
      }
      drain();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::atomic<bool> busy_{false};
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t chunks_ = 0, done_ = 0;
  std::atomic<int64_t> next_{0};
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

int configured_threads() {
  if (const char* env = std::getenv("TENSORSTITCH_NUM_THREADS"))
    return std::max(1, std::atoi(env));
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  static Pool p(configured_threads() - 1);
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int threads = num_threads();
  int64_t chunks = std::min<int64_t>(threads * 4, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (threads > 1 && chunks > 1) {
    int64_t step = (n + chunks - 1) / chunks;
    std::function<void(int64_t)> run_chunk = [&](int64_t c) {
      int64_t b = c * step, e = std::min(n, b + step);
      if (b < e) fn(b, e);
    };
    if (pool().try_run(chunks, run_chunk)) return;
  }
  fn(0, n);
}

}  // namespace ts
