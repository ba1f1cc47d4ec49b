#include "runtime/plan.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "ops/infer_util.h"
#include "ops/op_def.h"
#include "runtime/arena_layout.h"

namespace ts {
namespace {

int64_t bytes_of(const TensorType& t) { return num_elements(t.dims) * int64_t(dtype_size(t.dtype)); }

std::string human(int64_t bytes) {
  std::ostringstream s;
  if (bytes < 10 * 1024) s << bytes << " B";
  else if (bytes < 10 * 1024 * 1024) s << bytes / 1024 << " KiB";
  else s << bytes / (1024 * 1024) << " MiB";
  return s.str();
}

std::string explain(const Plan& plan, const Program& p) {
  std::ostringstream s;
  int kernels = 0;
  for (const Step& st : plan.steps)
    if (st.kernel) ++kernels;
  s << "executable: " << kernels << " kernel" << (kernels == 1 ? "" : "s") << ", " << plan.steps.size()
    << " step" << (plan.steps.size() == 1 ? "" : "s") << ", " << plan.known.size() << " folded constant"
    << (plan.known.size() == 1 ? "" : "s") << ", peak memory " << human(plan.peak_bytes) << " (arena "
    << human(plan.arena_bytes) << " reused by liveness, outputs " << human(plan.output_bytes) << ")\n";
  int k = 0;
  for (const Step& st : plan.steps) {
    const detail::Node& n = *st.node;
    const int64_t read = st.bytes_read, written = st.bytes_written;
    std::vector<int> inputs = n.inputs;
    if (st.kernel) {
      inputs.clear();
      for (const KernelOperand& o : st.desc->inputs) inputs.push_back(o.tensor);
    }
    const bool kernel = st.kernel != nullptr;
    const char* what = st.kind == Step::Kind::View ? "view" : st.kind == Step::Kind::Control ? "control" : "state";
    s << "  " << (kernel ? "kernel " + std::to_string(k++) : std::string(what)) << ": ";
    if (kernel && st.desc->fused()) {
      const std::vector<std::string>& ops = st.desc->ops;
      s << "fused '" << n.name << "' [";
      for (size_t i = 0; i < ops.size(); ++i) s << (i ? ", " : "") << ops[i];
      s << "]";
    } else {
      s << n.type << " '" << n.name << "'";
    }
    s << " (";
    for (size_t i = 0; i < inputs.size(); ++i) s << (i ? ", " : "") << p.types.at(p.resolve(inputs[i])).str();
    s << ") -> (";
    for (size_t i = 0; i < st.out_types.size(); ++i) s << (i ? ", " : "") << st.out_types[i].str();
    s << ")";
    if (kernel) s << "  read " << human(read) << ", wrote " << human(written);
    const char* sep = "  arena@";
    for (int64_t off : st.arena_offset)
      if (off >= 0) {
        s << sep << off;
        sep = ",";
      }
    s << "\n";
    for (size_t b = 0; b < st.bodies.size(); ++b) {  // each body's plan, indented
      std::istringstream lines(st.bodies[b]->explain);
      s << "    body " << b << ":\n";
      for (std::string line; std::getline(lines, line);) s << "      " << line << "\n";
    }
  }
  return s.str();
}

// Each kernel step's memory traffic and arithmetic.
void measure_traffic(Plan& plan) {
  for (Step& st : plan.steps) {
    if (!st.kernel) continue;
    const KernelDesc& d = *st.desc;
    for (size_t i = 0; i < st.in.size(); ++i)
      if (st.in[i] >= 0) st.bytes_read += bytes_of(d.inputs[i].type);
    for (const TensorType& t : st.out_types) st.bytes_written += bytes_of(t);
    if (d.fused()) st.flops = double(num_elements(d.space)) * double(d.body.size());
    const detail::Node* product = d.kind == KernelDesc::Kind::Matmul ? d.node
                                  : d.node && d.node->def->cls == OpClass::Matmul ? d.node
                                                                                  : nullptr;
    if (product) {
      // The contracted length: a is (.., M, K), or (.., K, M) transposed.
      const Dims& a = d.inputs[0].type.dims;
      const Dims& out = d.outputs[0].dims;
      const int64_t m = out.size() >= 2 ? out[out.size() - 2] : 1;
      const int64_t k = a.size() < 2 ? (a.empty() ? 1 : a[0]) : (a[a.size() - 2] == m ? a.back() : a[a.size() - 2]);
      st.flops += 2.0 * double(num_elements(out)) * double(k);
    }
  }
}

// Memory totals; a plan past int64 could never be allocated, and offsets
// that wrapped would point outside the arena.
int64_t add_bytes(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw Error("out of memory: the executable needs more than 2^63 bytes");
  return r;
}

// Places every intermediate result in one arena, reusing space by liveness
// (first fit). A view shares its input's buffer, so it extends that buffer's
// life. Targets (handed to the caller) and values being assigned to
// variables get memory of their own, never reused within the run.
void plan_memory(Plan& plan) {
  std::map<int, int> base;  // slot -> the slot owning its memory
  auto base_of = [&](int s) {
    auto it = base.find(s);
    return it == base.end() ? s : it->second;
  };
  std::set<int> own;  // bases that must not live in the arena
  for (int s : plan.target_slots) own.insert(s);
  std::map<int, size_t> last;  // base -> last step reading it
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    Step& st = plan.steps[i];
    if (st.kind == Step::Kind::View && st.in[0] >= 0) base[st.out[0]] = base_of(st.in[0]);
    if (st.kind == Step::Kind::Assign) own.insert(base_of(st.in[1]));
    for (int s : st.in)
      if (s >= 0) last[base_of(s)] = i;
  }
  for (int s : plan.target_slots) own.insert(base_of(s));
  std::set<int> borrowed(plan.feed_slots.begin(), plan.feed_slots.end());
  for (const auto& kv : plan.known) borrowed.insert(kv.first);
  for (const Step& st : plan.steps)
    if (st.kind == Step::Kind::ReadVariable) borrowed.insert(st.out[0]);
  for (int s : plan.target_slots) plan.copy_target.push_back(borrowed.count(base_of(s)) != 0);
  // An assigned value becomes the variable's next buffer as it is, unless
  // its memory belongs to someone else or is handed to the caller too.
  std::set<int> target_bases;
  for (int s : plan.target_slots) target_bases.insert(base_of(s));
  for (Step& st : plan.steps)
    if (st.kind == Step::Kind::Assign)
      st.copy_value = borrowed.count(base_of(st.in[1])) || target_bases.count(base_of(st.in[1]));
  ArenaLayout arena;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> frees(plan.steps.size());  // per step: (offset, size)
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    Step& st = plan.steps[i];
    const bool computes = st.kernel != nullptr;
    st.arena_offset.assign(st.out.size(), -1);
    // Workspace lives for the step alone.
    if (computes && st.kernel->workspace_bytes > 0) {
      const int64_t size = (st.kernel->workspace_bytes + 255) / 256 * 256;
      st.workspace_offset = arena.place(size);
      frees[i].emplace_back(st.workspace_offset, size);
    }
    for (size_t k = 0; computes && k < st.out.size(); ++k) {
      const int s = st.out[k];
      // Blocks are 256-byte aligned (what cuBLASLt and 16-byte vector loads
      // want), at least one unit even when empty so each has its own offset.
      const int64_t size = std::max<int64_t>(256, (bytes_of(st.out_types[k]) + 255) / 256 * 256);
      if (own.count(base_of(s))) {
        plan.output_bytes = add_bytes(plan.output_bytes, size);
        continue;
      }
      st.arena_offset[k] = arena.place(size);
      auto it = last.find(s);
      frees[it == last.end() ? i : std::max(it->second, i)].emplace_back(st.arena_offset[k], size);
    }
    for (auto [offset, size] : frees[i]) arena.release(offset, size);
  }
  plan.arena_bytes = arena.size();
  plan.peak_bytes = add_bytes(plan.arena_bytes, plan.output_bytes);
}

bool fusion_enabled() {
  const char* env = std::getenv("TENSORSTITCH_FUSION");
  return !(env && std::string(env) == "0");
}

}  // namespace

Plan build_plan(Program p, Backend& backend, KernelCache& cache) {
  // The passes read the graph, which other threads may be extending: they
  // run under its lock. Backend compiles (NVRTC takes milliseconds) run
  // after it is released.
  std::unique_lock<std::recursive_mutex> graph_lock(p.g->mu);
  prune(p, false);
  specialize(p);
  fold(p);
  cse(p);
  schedule(p);
  fuse(p, p.fusion && fusion_enabled());
  lower(p);

  Plan plan;
  std::map<int, int> slot;  // tensor id -> slot
  auto slot_of = [&](int t) {
    t = p.resolve(t);
    auto it = slot.find(t);
    if (it != slot.end()) return it->second;
    return slot[t] = plan.num_slots++;
  };
  for (int t : p.feeds) plan.feed_slots.push_back(slot_of(t));
  std::set<int> vars;
  auto add_input = [&](Step& st, int t, bool value) {
    t = p.resolve(t);
    if (!value) {
      const TensorType& type = p.types.at(t);
      st.in.push_back(-1);
      st.shape_args.push_back(NDArray::wrap(nullptr, type.dims, type.dtype, nullptr));
      return;
    }
    st.in.push_back(slot_of(t));
    st.shape_args.emplace_back();
    auto it = p.known.find(t);
    if (it != p.known.end()) plan.known.emplace_back(st.in.back(), it->second);
  };
  std::vector<size_t> step_region;  // per step: its region
  std::vector<std::pair<size_t, Program>> bodies;  // per control step's body: what to plan, once unlocked
  for (size_t ri = 0; ri < p.regions.size(); ++ri) {
    const Region& r = p.regions[ri];
    const detail::Node& n = p.node(r.root);
    Step st;
    st.node = &n;
    st.members = r.nodes;
    if (const std::shared_ptr<const KernelDesc>& desc = p.kernels[ri]) {
      for (size_t j = 0; j < desc->inputs.size(); ++j)
        add_input(st, desc->inputs[j].tensor, desc->value_read[j] && int(j) != desc->contraction_input);
    } else {
      if (n.def->view) st.kind = Step::Kind::View;
      for (size_t i = 0; i < n.inputs.size(); ++i) add_input(st, n.inputs[i], n.def->reads_value(i));
    }
    for (int t : n.outputs) {
      st.out.push_back(slot_of(t));
      st.out_types.push_back(p.types.at(t));
    }
    for (int t : r.extra_outputs) {  // a fused region's other stored values
      st.out.push_back(slot_of(t));
      st.out_types.push_back(p.types.at(t));
    }
    if (n.def->cls == OpClass::Control) {
      st.kind = Step::Kind::Control;
      std::vector<TensorType> in_types;
      for (int t : n.inputs) in_types.push_back(p.types.at(p.resolve(t)));
      for (const auto& body : n.bodies) {
        Program q;
        q.g = body->g;
        q.feeds = body->params;
        q.feed_types = body_param_types(*body, in_types);
        q.targets = body->results;
        q.allow_tf32 = p.allow_tf32;
        q.fusion = p.fusion;
        bodies.emplace_back(plan.steps.size(), std::move(q));
      }
    }
    if (n.def->state != StateRole::None) {
      st.variable = n.def->state == StateRole::Variable ? n.id : p.g->tensors[n.inputs[0]].producer;
      st.kind = n.def->state == StateRole::Assign ? Step::Kind::Assign : Step::Kind::ReadVariable;
      plan.assigns = plan.assigns || st.kind == Step::Kind::Assign;
      vars.insert(st.variable);
    }
    plan.steps.push_back(st);
    step_region.push_back(ri);
  }
  for (int t : p.targets) {
    plan.target_slots.push_back(slot_of(t));
    auto it = p.known.find(p.resolve(t));
    if (it != p.known.end()) plan.known.emplace_back(plan.target_slots.back(), it->second);
  }
  plan.variables.assign(vars.begin(), vars.end());
  std::sort(plan.known.begin(), plan.known.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  plan.known.erase(std::unique(plan.known.begin(), plan.known.end(),
                               [](const auto& a, const auto& b) { return a.first == b.first; }),
                   plan.known.end());

  // Drop each slot's reference after its last reader (targets, feeds and
  // folded values stay).
  std::set<int> pinned(plan.target_slots.begin(), plan.target_slots.end());
  pinned.insert(plan.feed_slots.begin(), plan.feed_slots.end());
  for (auto& kv : plan.known) pinned.insert(kv.first);
  std::map<int, size_t> last_use;
  for (size_t i = 0; i < plan.steps.size(); ++i)
    for (int s : plan.steps[i].in)
      if (s >= 0) last_use[s] = i;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    Step& st = plan.steps[i];
    for (int s : st.out)
      if (!last_use.count(s) && !pinned.count(s)) st.release.push_back(s);
    for (int s : st.in)
      if (s >= 0 && last_use[s] == i && !pinned.count(s) && std::find(st.release.begin(), st.release.end(), s) == st.release.end())
        st.release.push_back(s);
  }
  graph_lock.unlock();
  std::vector<size_t> kernel_steps;
  std::vector<std::shared_ptr<const KernelDesc>> descs;
  for (size_t i = 0; i < plan.steps.size(); ++i)
    if (const auto& desc = p.kernels[step_region[i]]) {
      plan.steps[i].desc = desc;
      kernel_steps.push_back(i);
      descs.push_back(desc);
    }
  const auto compiled = cache.compile_all(backend, descs);
  for (auto& [step, q] : bodies)
    plan.steps[step].bodies.push_back(std::make_shared<const Plan>(build_plan(std::move(q), backend, cache)));
  for (size_t j = 0; j < kernel_steps.size(); ++j) plan.steps[kernel_steps[j]].kernel = compiled[j];
  // Values known at compile time (constants, folded results) move to the
  // device once, with the plan.
  if (backend.device().kind != Device::Kind::CPU)
    for (auto& [slot, value] : plan.known) {
      NDArray copy = backend.empty(value.shape(), value.dtype());
      backend.copy(value, copy);
      value = copy;
    }
  plan_memory(plan);
  measure_traffic(plan);
  plan.explain = explain(plan, p);
  return plan;
}

}  // namespace ts
