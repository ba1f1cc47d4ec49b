// Compiling and running executables, and the Graph entry points that use them.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <map>

#include "ops/infer_util.h"
#include "ops/op_def.h"
#include "runtime/backend.h"
#include "runtime/executable_data.h"
#include "runtime/run_queue.h"
#include "runtime/run_steps.h"

namespace ts {

using detail::ExecutableData;

namespace {

std::string signature(const std::vector<TensorType>& types) {
  std::string s;
  for (const TensorType& t : types) s += (s.empty() ? "" : ", ") + t.str();
  return s;
}

// Numeric order of signatures, for a stable explain().
bool signature_less(const std::vector<TensorType>& a, const std::vector<TensorType>& b) {
  auto key = [](const TensorType& t) { return std::make_pair(int(t.dtype), t.dims); };
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [&](const TensorType& x, const TensorType& y) { return key(x) < key(y); });
}

std::string feed_where(const Tensor& t) { return "feed for placeholder '" + t.op().name() + "'"; }

// A feed type fits a declared type when dtype and rank match and every
// declared dimension is -1 or equal.
void check_fits(const Tensor& ph, const TensorType& got, const TensorType& want) {
  bool ok = got.dtype == want.dtype;
  if (ok && want.ranked) {
    ok = got.ranked && got.dims.size() == want.dims.size();
    for (size_t d = 0; ok && d < want.dims.size(); ++d) ok = want.dims[d] == -1 || want.dims[d] == got.dims[d];
  }
  if (!ok) {
    throw FeedError(feed_where(ph) + ": got " + got.str() + "; expected " + want.str() +
                    (got.dtype != want.dtype ? " (dtype differs)" : " (shape differs)"));
  }
}

// What a run holds until its stream drains.
struct RunState {
  std::shared_ptr<const Plan> plan;
  std::shared_ptr<detail::GraphData> g;
  Backend* backend = nullptr;
  bool ordered = false;  // holds the graph's writer turn until finished
  ~RunState() {
    if (ordered) g->writers.release();
  }
  std::vector<NDArray> slots;
  std::map<int, NDArray> state;  // the run's view of its variables: committed only if every step succeeds
  std::shared_ptr<void> arena;
  std::unique_ptr<Stream> stream;
  RunContext cx;  // kept memory is let go of when the run is
};

// The targets, and the variables committed; runs once the stream has drained.
std::vector<NDArray> finish(RunState& run) {
  const Plan& plan = *run.plan;
  std::vector<NDArray> results;
  for (size_t i = 0; i < plan.target_slots.size(); ++i) {
    const NDArray& r = run.slots[plan.target_slots[i]];
    results.push_back(plan.copy_target[i] ? copy_to(r, r.device()) : r);
  }
  // The run's own buffers become the variables' values, on the run's
  // device (the previous ones are released when no reader holds them);
  // values whose memory is not the run's own are copied, so a variable
  // never shares memory with a caller's array.
  std::map<int, bool> must_copy;  // per variable, from its last assignment
  for (const Step& st : plan.steps)
    if (st.kind == Step::Kind::Assign) must_copy[st.variable] = st.copy_value;
  std::map<int, NDArray> commit;
  for (const auto& [v, copy] : must_copy) {
    const NDArray& value = run.state[v];
    commit[v] = copy ? copy_to(value, value.device()) : value;
  }
  if (!commit.empty()) {
    std::lock_guard<std::recursive_mutex> lock(run.g->mu);
    for (auto& kv : commit) run.g->variable_values[kv.first] = kv.second;
  }
  return results;
}

using Done = std::function<void(std::vector<NDArray>, std::exception_ptr)>;

// Launches every step of the plan on a new stream of `backend`; `done` gets
// the results (or the error) when the backend reports the stream drained.
// Errors while launching are thrown here.
void launch_run(std::shared_ptr<const Plan> plan_ptr, Backend& backend, uint64_t run_index,
                std::shared_ptr<detail::GraphData> g, const std::vector<NDArray>& feeds, Done done,
                bool asynchronous = false, std::vector<double>* step_seconds = nullptr) {
  auto run = std::make_shared<RunState>();
  run->plan = std::move(plan_ptr);
  run->g = std::move(g);
  run->backend = &backend;
  const Plan& plan = *run->plan;
  if (plan.assigns) {
    run->g->writers.acquire();
    run->ordered = true;
  }
  std::vector<NDArray>& slots = run->slots;
  slots.resize(plan.num_slots);
  run->stream = backend.new_stream();
  run->stream->run_index = run_index;
  // Host feeds go to the device in order with the run's kernels.
  for (size_t i = 0; i < feeds.size(); ++i) {
    NDArray& slot = slots[plan.feed_slots[i]];
    if (feeds[i].device() == backend.device()) {
      slot = feeds[i];
    } else {
      slot = backend.empty(feeds[i].shape(), feeds[i].dtype());
      backend.copy_on(feeds[i], slot, *run->stream);
    }
  }
  for (const auto& kv : plan.known) slots[kv.first] = kv.second;
  {
    // A variable lives where it was last used: one on another device moves
    // here once, not on every run.
    std::lock_guard<std::recursive_mutex> lock(run->g->mu);
    for (int v : plan.variables) {
      NDArray& value = run->g->variable_values.at(v);
      if (value.device() != backend.device()) value = copy_to(value, backend.device());
      run->state[v] = value;
    }
  }
  if (plan.arena_bytes) run->arena = backend.allocate(size_t(plan.arena_bytes));
  run->cx.backend = &backend;
  run->cx.stream = run->stream.get();
  run->cx.state = &run->state;
  run->cx.step_seconds = step_seconds;
  run_steps(plan, run->cx, slots, run->arena);
  // The run finishes once its stream drains: in this thread for
  // synchronous runs, else from the backend's completion thread (the CPU
  // calls back at once).
  auto finished = [run, done = std::move(done)](std::exception_ptr error) {
    std::vector<NDArray> results;
    if (!error) {
      try {
        results = finish(*run);
      } catch (...) {
        error = std::current_exception();
      }
    }
    if (run->ordered) {  // the next writer may start before this one's caller wakes
      run->ordered = false;
      run->g->writers.release();
    }
    done(std::move(results), error);
  };
  Stream& stream = *run->stream;
  if (asynchronous) {
    backend.when_complete(stream, std::move(finished));
  } else {
    backend.on_complete(stream, [] {});  // a device error throws here, before anything commits
    finished(nullptr);
  }
}

// The concrete types of the feeds, validated against the executable's.
std::vector<TensorType> feed_signature(const detail::ExecutableData& d, const std::vector<NDArray>& feeds) {
  if (feeds.size() != d.feeds.size())
    throw FeedError("run: got " + std::to_string(feeds.size()) + " feeds; expected " + std::to_string(d.feeds.size()));
  std::vector<TensorType> types;
  for (size_t i = 0; i < feeds.size(); ++i) {
    if (!feeds[i].defined()) throw FeedError(feed_where(d.feeds[i]) + ": no array given");
    // Host arrays are copied to the device; arrays on another device are refused.
    if (feeds[i].device() != d.device && feeds[i].device().kind != Device::Kind::CPU)
      throw DeviceError(feed_where(d.feeds[i]) + ": array is on " + feeds[i].device().str() + "; expected " + d.device.str() +
                        " or the host");
    types.push_back(ranked(feeds[i].shape(), feeds[i].dtype()));
    check_fits(d.feeds[i], types.back(), d.feed_types[i]);
  }
  return types;
}

}  // namespace

namespace detail {

std::shared_ptr<RunCache> new_run_cache() { return std::make_shared<RunCache>(); }

static bool same_types(const std::vector<TensorType>& a, const std::vector<TensorType>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].dtype != b[i].dtype || a[i].dims != b[i].dims) return false;
  return true;
}

std::shared_ptr<const Plan> ExecutableData::last_plan_for(const std::vector<NDArray>& feeds) {
  std::lock_guard<std::mutex> lock(mu);
  if (plans.empty() || feeds.size() != this->feeds.size()) return nullptr;
  const std::vector<TensorType>& types = plans.front().first;
  for (size_t i = 0; i < feeds.size(); ++i)
    if (!feeds[i].defined() || (feeds[i].device() != device && feeds[i].device().kind != Device::Kind::CPU) ||
        feeds[i].dtype() != types[i].dtype ||
        feeds[i].shape() != types[i].dims)
      return nullptr;
  return std::atomic_load(&plans.front().second->plan);
}

std::shared_ptr<const Plan> ExecutableData::plan_for(const std::vector<TensorType>& concrete) {
  std::shared_ptr<PlanEntry> entry;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto it = plans.begin(); it != plans.end() && !entry; ++it) {
      if (!same_types(it->first, concrete)) continue;
      if (it != plans.begin()) plans.splice(plans.begin(), plans, it);
      entry = plans.front().second;
    }
    if (!entry) {
      entry = std::make_shared<PlanEntry>();
      plans.emplace_front(concrete, entry);
      if (plans.size() > kMaxPlans) plans.pop_back();
    }
  }
  try {
    // A failed compile leaves the flag unset, so the next caller tries again.
    std::call_once(entry->once, [&] {
      Program p;
      p.g = g;
      for (const Tensor& t : feeds) p.feeds.push_back(t.id());
      p.feed_types = concrete;
      for (const Tensor& t : targets) p.targets.push_back(t.id());
      p.target_ops = target_ops;
      p.allow_tf32 = tf32;
      p.fusion = fusion;
      // steps() and explain() may read the entry meanwhile.
      std::atomic_store(&entry->plan, std::shared_ptr<const Plan>(std::make_shared<const Plan>(
                                          build_plan(std::move(p), *backend, kernels))));
    });
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu);
    plans.remove_if([&](const auto& e) { return e.second == entry; });
    throw;
  }
  return std::atomic_load(&entry->plan);
}

std::shared_ptr<ExecutableData> make_executable(const std::shared_ptr<GraphData>& g,
                                                const std::vector<std::pair<Tensor, TensorType>>& feeds,
                                                const std::vector<Tensor>& targets,
                                                const std::vector<Operation>& target_ops, Device device) {
  check_device_available(device);
  auto d = std::make_shared<ExecutableData>();
  d->g = g;
  d->device = device;
  d->backend = &backend_for(device);
  std::lock_guard<std::recursive_mutex> lock(g->mu);
  for (const auto& [t, type] : feeds) {
    if (t.graph_data() != g) throw GraphError("compile: a fed tensor belongs to another graph");
    const Node& n = g->producer(t.id());
    if (!n.def->fed)
      throw FeedError("compile: only placeholders can be fed; got the output of " + describe(n));
    for (const Tensor& seen : d->feeds)
      if (seen == t) throw FeedError(feed_where(t) + ": fed twice");
    check_fits(t, type, t.type());
    d->feeds.push_back(t);
    d->feed_types.push_back(type);
  }
  for (const Tensor& t : targets) {
    if (t.graph_data() != g) throw GraphError("compile: a target tensor belongs to another graph");
    d->targets.push_back(t);
  }
  for (const Operation& op : target_ops) {
    if (op.graph_data() != g) throw GraphError("compile: a target operation belongs to another graph");
    d->target_ops.push_back(op.id());
  }
  return d;
}

}  // namespace detail

std::vector<NDArray> Executable::run(const std::vector<NDArray>& feeds) const {
  // Steady state: the feeds match the signature run last, checked without
  // building types (small runs are dominated by such overheads).
  std::shared_ptr<const Plan> plan = d_->last_plan_for(feeds);
  if (!plan) plan = d_->plan_for(feed_signature(*d_, feeds));
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  std::vector<NDArray> results;
  std::exception_ptr error;
  launch_run(plan, *d_->backend, d_->runs++, d_->g, feeds, [&](std::vector<NDArray> r, std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(m);
    results = std::move(r);
    error = e;
    finished = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return finished; });
  if (error) std::rethrow_exception(error);
  return results;
}

std::vector<KernelProfile> Executable::profile(const std::vector<NDArray>& feeds) const {
  const std::shared_ptr<const Plan> plan = d_->plan_for(feed_signature(*d_, feeds));
  std::vector<double> seconds;
  std::exception_ptr error;
  launch_run(plan, *d_->backend, d_->runs++, d_->g, feeds, [&](std::vector<NDArray>, std::exception_ptr e) { error = e; },
             false, &seconds);
  if (error) std::rethrow_exception(error);
  std::vector<KernelProfile> out;
  size_t k = 0;
  for (const Step& st : plan->steps) {
    if (!st.kernel) continue;
    KernelProfile row;
    row.name = st.node->name;
    row.ops = st.desc->ops;
    row.seconds = k < seconds.size() ? seconds[k] : 0;
    row.bytes = st.bytes_read + st.bytes_written;
    row.flops = st.flops;
    out.push_back(std::move(row));
    ++k;
  }
  return out;
}

double Executable::copy_bandwidth() const {
  // 64 MiB each way, best of three: large enough to stream from memory.
  static std::mutex mu;
  static std::map<std::string, double> measured;
  std::lock_guard<std::mutex> lock(mu);
  auto it = measured.find(d_->device.str());
  if (it != measured.end()) return it->second;
  Backend& backend = *d_->backend;
  const Dims dims{int64_t(16) << 20};
  NDArray src = backend.empty(dims, DType::Float32), dst = backend.empty(dims, DType::Float32);
  const std::unique_ptr<Stream> stream = backend.new_stream();
  double best = 1e30;
  for (int i = 0; i < 4; ++i) {
    const auto started = std::chrono::steady_clock::now();
    backend.copy(src, dst);
    backend.on_complete(*stream, [] {});
    if (i) best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  return measured[d_->device.str()] = 2.0 * double(src.nbytes()) / best;
}

Future Executable::run_async(const std::vector<NDArray>& feeds) const {
  Future f;
  // Validation, compiling and launching happen on a run thread; their
  // errors arrive through the Future, like the run's own.
  post_run([d = d_, feeds, f] {
    f.set_running();
    d->in_flight.acquire();
    try {
      std::shared_ptr<const Plan> plan = d->last_plan_for(feeds);
      if (!plan) plan = d->plan_for(feed_signature(*d, feeds));
      launch_run(
          plan, *d->backend, d->runs++, d->g, feeds,
          [f, d](std::vector<NDArray> r, std::exception_ptr e) {
            d->in_flight.release();
            if (e) f.fail(e);
            else f.finish(std::move(r));
          },
          true);
    } catch (...) {  // before its completion was scheduled
      d->in_flight.release();
      f.fail(std::current_exception());
    }
  });
  return f;
}

const std::vector<Tensor>& Executable::feed_tensors() const { return d_->feeds; }

std::vector<std::pair<std::string, std::vector<int>>> Executable::steps() const {
  std::lock_guard<std::mutex> lock(d_->mu);
  std::vector<std::pair<std::string, std::vector<int>>> out;
  if (d_->plans.empty()) return out;
  const std::shared_ptr<const Plan> plan = std::atomic_load(&d_->plans.front().second->plan);
  if (!plan) return out;
  for (const Step& st : plan->steps) {
    const char* kind = st.kernel ? "kernel" : st.kind == Step::Kind::View ? "view" : "state";
    out.emplace_back(kind, st.members);
  }
  return out;
}
std::vector<std::shared_ptr<const KernelDesc>> Executable::kernels() const {
  std::lock_guard<std::mutex> lock(d_->mu);
  std::vector<std::shared_ptr<const KernelDesc>> out;
  if (d_->plans.empty()) return out;
  const std::shared_ptr<const Plan> plan = std::atomic_load(&d_->plans.front().second->plan);
  if (!plan) return out;
  for (const Step& st : plan->steps)
    if (st.kernel) out.push_back(st.desc);
  return out;
}
const std::vector<Tensor>& Executable::targets() const { return d_->targets; }
Device Executable::device() const { return d_->device; }

std::string Executable::explain(const std::vector<TensorType>& feed_types) const {
  for (size_t i = 0; i < feed_types.size() && i < d_->feeds.size(); ++i)
    check_fits(d_->feeds[i], feed_types[i], d_->feed_types[i]);
  if (feed_types.size() != d_->feeds.size()) throw FeedError("explain: wrong number of feed types");
  return d_->plan_for(feed_types)->explain;
}

std::string Executable::explain() const {
  std::lock_guard<std::mutex> lock(d_->mu);
  std::vector<std::pair<std::vector<TensorType>, std::shared_ptr<const Plan>>> sorted;
  for (const auto& e : d_->plans)
    if (auto plan = std::atomic_load(&e.second->plan)) sorted.emplace_back(e.first, plan);
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return signature_less(a.first, b.first); });
  std::string s;
  for (const auto& kv : sorted) s += (sorted.size() > 1 ? "signature " + signature(kv.first) + "\n" : "") + kv.second->explain;
  return s.empty() ? "executable: not compiled yet (feeds with -1 dimensions compile on first run)\n" : s;
}

Executable Graph::compile(const std::vector<std::pair<Tensor, TensorType>>& feeds, const std::vector<Tensor>& targets,
                          const std::vector<Operation>& target_ops, Device device, bool tf32, bool fusion) {
  auto d = detail::make_executable(d_, feeds, targets, target_ops, device);
  d->tf32 = tf32;
  d->fusion = fusion;
  bool concrete = true;
  for (const TensorType& t : d->feed_types) concrete = concrete && t.is_concrete();
  if (concrete) d->plan_for(d->feed_types);  // compile errors surface here, not at the first run
  return Executable(d);
}

Executable Graph::executable_for(const std::vector<std::pair<Tensor, NDArray>>& feeds, const std::vector<Tensor>& targets,
                                 const std::vector<Operation>& target_ops, Device device) {
  // One executable per (feeds, targets, target ops, device); it caches a plan per signature.
  detail::RunKey key;
  key.device = device;
  for (const auto& f : feeds) {
    if (f.first.graph_data() != d_) throw GraphError("run: a fed tensor belongs to another graph");
    key.feeds.push_back(f.first.id());
  }
  for (const Tensor& t : targets) key.targets.push_back(t.id());
  for (const Operation& o : target_ops) key.ops.push_back(o.id());
  std::shared_ptr<ExecutableData> exe;
  {
    std::lock_guard<std::mutex> lock(runs_->mu);
    auto& entries = runs_->entries;
    auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == key; });
    if (it != entries.end()) {
      entries.splice(entries.begin(), entries, it);
      exe = entries.front().second;
    }
  }
  if (!exe) {
    std::vector<std::pair<Tensor, TensorType>> declared;
    for (const auto& f : feeds) declared.emplace_back(f.first, f.first.type());
    exe = detail::make_executable(d_, declared, targets, target_ops, device);
    std::lock_guard<std::mutex> lock(runs_->mu);
    runs_->entries.emplace_front(std::move(key), exe);
    if (runs_->entries.size() > detail::RunCache::kMaxEntries) runs_->entries.pop_back();
  }
  return Executable(exe);
}

std::vector<NDArray> Graph::run(const std::vector<std::pair<Tensor, NDArray>>& feeds, const std::vector<Tensor>& targets,
                                const std::vector<Operation>& target_ops, Device device) {
  std::vector<NDArray> arrays;
  for (const auto& f : feeds) arrays.push_back(f.second);
  return executable_for(feeds, targets, target_ops, device).run(arrays);
}

Future Graph::run_async(const std::vector<std::pair<Tensor, NDArray>>& feeds, const std::vector<Tensor>& targets,
                        const std::vector<Operation>& target_ops, Device device) {
  std::vector<NDArray> arrays;
  for (const auto& f : feeds) arrays.push_back(f.second);
  return executable_for(feeds, targets, target_ops, device).run_async(arrays);
}

}  // namespace ts
