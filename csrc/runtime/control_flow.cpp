// Running control flow: a loop in C++ over its bodies' plans, all on the
// run's stream. A for loop with its count known when built runs without
// waiting for the device; a branch, a while loop's condition and a count
// given as a tensor are read back (one wait each).
#include <cstring>

#include "ops/infer_util.h"
#include "ops/op_def.h"
#include "runtime/run_steps.h"

namespace ts {
namespace {

bool truth(RunContext& cx, const NDArray& scalar) {
  const NDArray host = cx.read_back(scalar);
  return *static_cast<const uint8_t*>(host.data()) != 0;
}

int64_t count_of(RunContext& cx, const NDArray& scalar) {
  const NDArray host = cx.read_back(scalar);
  return host.dtype() == DType::Int64 ? *static_cast<const int64_t*>(host.data())
                                      : int64_t(*static_cast<const int32_t*>(host.data()));
}

// Each step of a loop draws other random numbers: its run index mixes the
// run's, the loop's and the step's (splitmix64).
uint64_t step_run_index(uint64_t run, int node, int64_t step) {
  uint64_t z = run ^ (uint64_t(uint32_t(node)) << 40) ^ (uint64_t(step) * 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A value leaving the step that is still one of its inputs (no iteration
// ran) gets memory of its own, as every other step's output has.
NDArray own(RunContext& cx, const NDArray& a, const std::vector<NDArray>& inputs) {
  for (const NDArray& in : inputs)
    if (in.defined() && in.data() == a.data() && a.nbytes()) {
      NDArray copy = cx.backend->empty(a.shape(), a.dtype());
      cx.backend->copy_on(a, copy, *cx.stream);
      return copy;
    }
  return a;
}

bool used(const Step& st, size_t k) {
  for (int s : st.release)
    if (s == st.out[k]) return false;
  return true;
}

void run_for(const Step& st, RunContext& cx, const std::vector<NDArray>& in, std::vector<NDArray>& out) {
  const int64_t fixed = attr_int(*st.node, "trip_count");
  const size_t k = size_t(attr_int(*st.node, "carried")), first = fixed < 0 ? 1 : 0;
  const int64_t count = fixed >= 0 ? fixed : std::max<int64_t>(0, count_of(cx, in[0]));
  std::vector<NDArray> carried(in.begin() + first, in.begin() + first + k);
  const std::vector<NDArray> captures(in.begin() + first + k, in.end());
  // The history outputs, where something reads them.
  std::vector<NDArray> history(k);
  for (size_t j = 0; j < k && fixed >= 0; ++j)
    if (used(st, k + j)) history[j] = cx.backend->empty(st.out_types[k + j].dims, st.out_types[k + j].dtype);
  // The index of every step, uploaded once and viewed one element at a time.
  NDArray steps({count}, DType::Int32);
  for (int64_t i = 0; i < count; ++i) static_cast<int32_t*>(steps.data())[i] = int32_t(i);
  if (cx.backend->device().kind != Device::Kind::CPU) {
    NDArray on_device = cx.backend->empty({count}, DType::Int32);
    cx.backend->copy_on(steps, on_device, *cx.stream);
    steps = on_device;
  }
  const Plan& body = *st.bodies[0];
  const uint64_t run = cx.stream->run_index;
  std::vector<NDArray> args(1 + k + captures.size());
  std::copy(captures.begin(), captures.end(), args.begin() + 1 + k);
  for (int64_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < k; ++j) {
      if (!history[j].defined()) continue;
      const size_t row = carried[j].nbytes();
      NDArray slot = NDArray::wrap(static_cast<char*>(history[j].data()) + row * size_t(i), carried[j].shape(),
                                   carried[j].dtype(), history[j].owner(), history[j].device());
      cx.backend->copy_on(carried[j], slot, *cx.stream);
    }
    args[0] = NDArray::wrap(static_cast<int32_t*>(steps.data()) + i, {}, DType::Int32, steps.owner(), steps.device());
    std::copy(carried.begin(), carried.end(), args.begin() + 1);
    cx.stream->run_index = step_run_index(run, st.node->id, i);
    std::vector<NDArray> next = run_body(body, cx, args);
    cx.stream->run_index = run;
    for (size_t j = 0; j < k; ++j) cx.keep(carried[j]);
    carried = std::move(next);
    cx.bound_kept();
  }
  cx.keep(steps);
  for (size_t j = 0; j < k; ++j) out[j] = own(cx, carried[j], in);
  for (size_t j = 0; j < k && fixed >= 0; ++j) out[k + j] = history[j];
}

void run_while(const Step& st, RunContext& cx, const std::vector<NDArray>& in, std::vector<NDArray>& out) {
  const size_t k = size_t(attr_int(*st.node, "carried"));
  std::vector<NDArray> args = in;  // carried values, then captures
  const uint64_t run = cx.stream->run_index;
  for (int64_t i = 0;; ++i) {
    cx.stream->run_index = step_run_index(run, st.node->id, i);
    const std::vector<NDArray> go = run_body(*st.bodies[0], cx, args);
    const bool again = truth(cx, go[0]);
    if (again) {
      std::vector<NDArray> next = run_body(*st.bodies[1], cx, args);
      for (size_t j = 0; j < k; ++j) {
        cx.keep(args[j]);
        args[j] = next[j];
      }
    }
    cx.stream->run_index = run;
    if (!again) break;
  }
  for (size_t j = 0; j < k; ++j) out[j] = own(cx, args[j], in);
}

void run_if(const Step& st, RunContext& cx, const std::vector<NDArray>& in, std::vector<NDArray>& out) {
  const std::vector<NDArray> captures(in.begin() + 1, in.end());
  out = run_body(*st.bodies[truth(cx, in[0]) ? 0 : 1], cx, captures);
}

}  // namespace

void run_control(const Step& st, RunContext& cx, std::vector<NDArray>& slots) {
  std::vector<NDArray> in, out(st.out.size());
  for (int s : st.in) in.push_back(slots[s]);
  switch (st.node->def->control) {
    case ControlKind::ForLoop: run_for(st, cx, in, out); break;
    case ControlKind::WhileLoop: run_while(st, cx, in, out); break;
    case ControlKind::Branch: run_if(st, cx, in, out); break;
    case ControlKind::None: throw Error(detail::describe(*st.node) + ": not a control-flow op");
  }
  for (size_t k = 0; k < st.out.size(); ++k) {
    cx.keep(out[k]);  // may be let go of before the stream has read it
    slots[st.out[k]] = out[k];
  }
}

}  // namespace ts
