// An executable plan for one concrete input signature: the ordered kernels,
// which slot each reads and writes, when each slot can be released.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "passes/program.h"
#include "runtime/backend.h"
#include "runtime/kernel_cache.h"

namespace ts {

struct Step {
  // What the executor does: launch a kernel, reshape a view, touch the
  // run's variable state, or run control flow over its bodies' plans.
  enum class Kind { Kernel, View, ReadVariable, Assign, Control };
  Kind kind = Kind::Kernel;
  int variable = -1;                   // ReadVariable / Assign: the variable's node id
  const detail::Node* node = nullptr;  // the op, or a fused region's root
  std::shared_ptr<const KernelDesc> desc;        // Kernel steps: what this step computes
  std::shared_ptr<const CompiledKernel> kernel;  // and the backend's kernel for it (maybe shared with equal steps)
  std::vector<int> in, out;            // slots; -1 for an input read only for its shape
  std::vector<NDArray> shape_args;     // per input: a shape-only stand-in where in[i] is -1
  std::vector<TensorType> out_types;
  std::vector<int> release;            // slots last used by this step
  std::vector<int64_t> arena_offset;   // per output: its place in the run's arena, or -1
  int64_t workspace_offset = -1;       // the kernel's workspace in the arena
  bool copy_value = false;             // Assign: commit a copy (the value's memory is not the run's own)
  // Kernel steps, for explain() and profile(): bytes read from memory and
  // written, and arithmetic (an estimate: one op per element per step, 2MNK
  // for a product).
  int64_t bytes_read = 0, bytes_written = 0;
  double flops = 0;
  std::vector<int> members;            // the graph nodes it computes (a region's, or the one op)
  std::vector<std::shared_ptr<const struct Plan>> bodies;  // Control: a plan per body, for these input types
};

struct Plan {
  std::vector<Step> steps;
  int num_slots = 0;
  std::vector<int> feed_slots;
  std::vector<std::pair<int, NDArray>> known;  // slot, value known at compile time
  std::vector<int> target_slots;
  // Per target: its memory belongs to someone else (a feed, a constant or
  // folded value, a variable), perhaps through views, so the run returns a
  // copy: results never alias state that outlives the run.
  std::vector<bool> copy_target;
  std::vector<int> variables;                  // variable node ids read or assigned
  bool assigns = false;                        // some step assigns a variable
  int64_t arena_bytes = 0;   // one block per run holds every intermediate
  int64_t output_bytes = 0;  // results with memory of their own (targets, assigned values)
  int64_t peak_bytes = 0;
  std::string explain;
};

// Runs the compile pipeline (prune, specialize, fold, cse, schedule, fuse,
// lower), has `backend` compile each distinct kernel (through `cache`), and
// lays out slots and memory. Fusion is off where the program says so, or
// everywhere with TENSORSTITCH_FUSION=0 in the environment.
Plan build_plan(Program p, Backend& backend, KernelCache& cache);

}  // namespace ts
