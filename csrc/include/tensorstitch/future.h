// The result of an asynchronous run. The backend completes it when the run's
// stream drains; callbacks run on the run threads, never on a backend's own
// completion thread, so they may block or start other runs.
#pragma once
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include "tensorstitch/ndarray.h"

namespace ts {

class Future {
 public:
  enum class State { Pending, Running, Finished, Failed };

  Future();
  State state() const;
  bool done() const;
  // Waits up to `timeout_s` seconds (negative: forever); true once done.
  bool wait(double timeout_s = -1) const;
  // Waits, then returns the outputs or rethrows the run's exception.
  std::vector<NDArray> result() const;
  // Waits; the run's exception, or nullptr.
  std::exception_ptr exception() const;
  // Calls fn once the run is done: at once (in this thread) if it is.
  void on_done(std::function<void()> fn) const;

  // For the executor.
  void set_running() const;
  void finish(std::vector<NDArray> outputs) const;
  void fail(std::exception_ptr error) const;

 private:
  struct Shared;
  std::shared_ptr<Shared> s_;
  void complete(std::vector<NDArray> outputs, std::exception_ptr error) const;
};

// Waits until every asynchronous run submitted so far has completed and its
// callbacks have run (the Python front calls it at exit).
void drain_async_runs();

}  // namespace ts
