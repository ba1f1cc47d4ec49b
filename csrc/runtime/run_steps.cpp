#include "runtime/run_steps.h"

#include <chrono>

namespace ts {

namespace {
// Kept memory past which a loop waits for its stream before going on.
constexpr int64_t kMaxKeptBytes = int64_t(256) << 20;
constexpr size_t kMaxKept = 4096;
}  // namespace

void RunContext::keep(const NDArray& a) {
  if (!a.defined()) return;
  kept_bytes += int64_t(a.nbytes());
  kept.push_back(a);
}

void RunContext::keep(std::shared_ptr<void> block, int64_t bytes) {
  if (!block) return;
  kept_bytes += bytes;
  kept_blocks.push_back(std::move(block));
}

void RunContext::release_kept() {
  kept.clear();
  kept_blocks.clear();
  kept_bytes = 0;
}

void RunContext::bound_kept() {
  if (kept_bytes < kMaxKeptBytes && kept.size() + kept_blocks.size() < kMaxKept) return;
  backend->on_complete(*stream, [] {});
  release_kept();
}

NDArray RunContext::read_back(const NDArray& scalar) {
  backend->on_complete(*stream, [] {});  // also throws a device error from earlier steps
  release_kept();
  if (scalar.device().kind == Device::Kind::CPU) return scalar;
  NDArray host(scalar.shape(), scalar.dtype());
  backend->copy(scalar, host);
  return host;
}

void run_steps(const Plan& plan, RunContext& cx, std::vector<NDArray>& slots, const std::shared_ptr<void>& arena) {
  Backend& backend = *cx.backend;
  // Scratch for each step's arrays, reused across runs on this thread and
  // emptied on the way out (also when a kernel throws).
  thread_local std::vector<NDArray> ins, outs;
  struct Clear {
    ~Clear() {
      ins.clear();
      outs.clear();
    }
  } clear_scratch;
  char* const arena_base = static_cast<char*>(arena.get());
  for (const Step& st : plan.steps) {
    if (st.kind == Step::Kind::ReadVariable) {
      slots[st.out[0]] = cx.state->at(st.variable);
    } else if (st.kind == Step::Kind::Assign) {
      (*cx.state)[st.variable] = slots[st.in[1]];
    } else if (st.kind == Step::Kind::View) {
      slots[st.out[0]] = slots[st.in[0]].reshaped(st.out_types[0].dims);
    } else if (st.kind == Step::Kind::Control) {
      run_control(st, cx, slots);
    } else {
      ins.clear();
      for (size_t i = 0; i < st.in.size(); ++i) ins.push_back(st.in[i] >= 0 ? slots[st.in[i]] : st.shape_args[i]);
      outs.assign(st.out.size(), NDArray());
      for (size_t k = 0; k < st.out.size(); ++k) {
        const TensorType& t = st.out_types[k];
        outs[k] = st.arena_offset[k] >= 0
                      ? NDArray::wrap(arena_base + st.arena_offset[k], t.dims, t.dtype, arena, backend.device())
                      : backend.empty(t.dims, t.dtype);
      }
      void* workspace = st.workspace_offset >= 0 ? arena_base + st.workspace_offset : nullptr;
      if (!cx.step_seconds) {
        backend.launch(*st.kernel, *st.desc, ins, outs, workspace, *cx.stream);
      } else {  // profiling: time this kernel alone, to its completion
        const auto started = std::chrono::steady_clock::now();
        backend.launch(*st.kernel, *st.desc, ins, outs, workspace, *cx.stream);
        backend.on_complete(*cx.stream, [] {});
        cx.step_seconds->push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      }
      for (size_t k = 0; k < outs.size(); ++k) slots[st.out[k]] = std::move(outs[k]);
    }
    for (int s : st.release) slots[s] = NDArray();
  }
}

std::vector<NDArray> run_body(const Plan& body, RunContext& cx, const std::vector<NDArray>& args) {
  std::vector<NDArray> slots(body.num_slots);
  for (size_t i = 0; i < args.size(); ++i) slots[body.feed_slots[i]] = args[i];
  for (const auto& kv : body.known) slots[kv.first] = kv.second;
  std::shared_ptr<void> arena;
  if (body.arena_bytes) arena = cx.backend->allocate(size_t(body.arena_bytes));
  run_steps(body, cx, slots, arena);
  std::vector<NDArray> results;
  for (size_t i = 0; i < body.target_slots.size(); ++i) {
    NDArray r = slots[body.target_slots[i]];
    if (body.copy_target[i]) {  // a parameter or constant passed through: the next step may write over it
      NDArray copy = cx.backend->empty(r.shape(), r.dtype());
      cx.backend->copy_on(r, copy, *cx.stream);
      r = copy;
    }
    results.push_back(r);
  }
  cx.keep(std::move(arena), body.arena_bytes);
  return results;
}

}  // namespace ts
