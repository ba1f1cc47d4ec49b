// Executing a plan's steps on a stream: a run's own plan (executable.cpp)
// and, inside it, control-flow bodies (control_flow.cpp).
#pragma once
#include <map>
#include <memory>
#include <vector>

#include "runtime/plan.h"

namespace ts {

// What the steps of one run work with.
struct RunContext {
  Backend* backend = nullptr;
  Stream* stream = nullptr;
  std::map<int, NDArray>* state = nullptr;  // the run's variables
  std::vector<double>* step_seconds = nullptr;  // profiling: each kernel's time
  // Memory that bodies let go of while the stream may still use it: kept
  // until the stream has passed it (another run's stream could otherwise be
  // handed the block while our kernels read it).
  std::vector<NDArray> kept;
  std::vector<std::shared_ptr<void>> kept_blocks;
  int64_t kept_bytes = 0;
  void keep(const NDArray& a);
  void keep(std::shared_ptr<void> block, int64_t bytes);
  // After a wait on the stream: nothing kept is in use any more.
  void release_kept();
  // Waits for the stream once a lot is kept, so long loops stay bounded.
  void bound_kept();
  // Waits for the stream (throwing its error) and reads a scalar.
  NDArray read_back(const NDArray& scalar);
};

// Runs `plan`'s steps with its feeds already in `slots`.
void run_steps(const Plan& plan, RunContext& cx, std::vector<NDArray>& slots, const std::shared_ptr<void>& arena);
// Runs a body's plan on `args` (its feeds) in the run's stream; returns its
// results, each of memory of its own.
std::vector<NDArray> run_body(const Plan& body, RunContext& cx, const std::vector<NDArray>& args);
// A control-flow step: branches and loops over its bodies' plans.
void run_control(const Step& st, RunContext& cx, std::vector<NDArray>& slots);

}  // namespace ts
