#include "tensorstitch/future.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "runtime/run_queue.h"

namespace ts {

struct Future::Shared {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  State state = State::Pending;
  std::vector<NDArray> outputs;
  std::exception_ptr error;
  std::vector<std::function<void()>> callbacks;
};

Future::Future() : s_(std::make_shared<Shared>()) {}

Future::State Future::state() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->state;
}

bool Future::done() const {
  const State st = state();
  return st == State::Finished || st == State::Failed;
}

bool Future::wait(double timeout_s) const {
  std::unique_lock<std::mutex> lock(s_->mu);
  auto ready = [&] { return s_->state == State::Finished || s_->state == State::Failed; };
  if (timeout_s < 0) {
    s_->cv.wait(lock, ready);
    return true;
  }
  return s_->cv.wait_for(lock, std::chrono::duration<double>(timeout_s), ready);
}

std::vector<NDArray> Future::result() const {
  wait();
  std::lock_guard<std::mutex> lock(s_->mu);
  if (s_->error) std::rethrow_exception(s_->error);
  return s_->outputs;
}

std::exception_ptr Future::exception() const {
  wait();
  std::lock_guard<std::mutex> lock(s_->mu);
  return s_->error;
}

void Future::on_done(std::function<void()> fn) const {
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->state != State::Finished && s_->state != State::Failed) {
      s_->callbacks.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

void Future::set_running() const {
  std::lock_guard<std::mutex> lock(s_->mu);
  s_->state = State::Running;
}

void Future::finish(std::vector<NDArray> outputs) const { complete(std::move(outputs), nullptr); }
void Future::fail(std::exception_ptr error) const { complete({}, error); }

void Future::complete(std::vector<NDArray> outputs, std::exception_ptr error) const {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->outputs = std::move(outputs);
    s_->error = error;
    s_->state = error ? State::Failed : State::Finished;
    callbacks.swap(s_->callbacks);
  }
  s_->cv.notify_all();
  // Never on the completing (backend) thread.
  for (auto& fn : callbacks) post_run(std::move(fn));
}

void drain_async_runs() { drain_runs(); }

}  // namespace ts
