// Lowering: each region becomes a backend-neutral KernelDesc. Registers are
// allocated here (inputs first, then one per result, reused after a last
// use), rounding steps are placed, and every attribute a kernel needs is
// resolved, so backends only translate.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "ops/infer_util.h"
#include "ops/op_def.h"
#include "passes/program.h"

namespace ts {
namespace {

bool is_float_register(DType r) { return r == DType::Float32 || r == DType::Float64; }

// Whether a value of dtype `value` needs rounding to hold `dt` exactly in
// registers of type `reg`: a narrower float, or a narrower integer.
bool narrower(DType dt, DType reg) {
  if (dt == reg) return false;
  if (is_float_register(reg)) return dt != DType::Float64 && !(reg == DType::Float32 && dt == DType::Float32);
  return dt != DType::Int64;
}

struct Builder {
  Builder(const Program& program, KernelDesc& kernel, int first_reg, std::map<int, int> preset)
      : p(program), k(kernel), reg(std::move(preset)), next(first_reg) {}
  const Program& p;
  KernelDesc& k;
  std::map<int, int> reg;  // tensor -> register
  std::vector<int> free_regs;
  int next = 0;

  int take() {
    if (free_regs.empty()) return next++;
    const int r = free_regs.back();
    free_regs.pop_back();
    return r;
  }
  // Row kernels run each segment (the steps up to a row reduction) tile by
  // tile and read per-row values at every tile, so a register holding one
  // is reused only after the segment ends: a step later in the segment
  // would overwrite it before the row's last tile reads it.
  std::set<int> row_regs;
  std::vector<int> deferred;
  void release(int r, bool now = false) {
    if (!now && k.kind == KernelDesc::Kind::Row && row_regs.count(r)) {
      deferred.push_back(r);
      return;
    }
    if (std::find(free_regs.begin(), free_regs.end(), r) == free_regs.end()) free_regs.push_back(r);
  }
};

// The steps of one member: its op, after routing integer operands of an op
// computed in float16/bfloat16 through that type (what the unfused op's
// conversion does), and rounding its result to its dtype.
void add_step(Builder& b, const detail::Node& n, bool per_row, const std::function<bool(int)>& last_use_here) {
  const Program& p = b.p;
  KernelStep st;
  st.node = &n;
  st.scalar = n.def->scalar;
  st.arity = int(n.inputs.size());
  st.reduce = n.def->scalar ? Combiner::None : n.def->reduction;
  st.per_row = per_row;
  DType operand = p.types.at(p.resolve(n.inputs[0])).dtype;
  for (int t : n.inputs) operand = promote_types(operand, p.types.at(p.resolve(t)).dtype);
  int* args[3] = {&st.a, &st.b, &st.c};
  std::vector<int> temps;
  for (size_t a = 0; a < n.inputs.size(); ++a) {
    const int t = p.resolve(n.inputs[a]);
    *args[a] = b.reg.at(t);
    const DType dt = p.types.at(t).dtype;
    if ((operand == DType::Float16 || operand == DType::BFloat16) && is_integer(dt)) {
      KernelStep r;
      r.node = &n;
      r.scalar = "Identity";
      r.arity = 1;
      r.per_row = per_row;
      r.round = true;
      r.round_to = operand;
      r.a = *args[a];
      r.dst = b.take();
      temps.push_back(r.dst);
      b.k.body.push_back(r);
      *args[a] = r.dst;
    }
  }
  for (int t : n.inputs)
    if (last_use_here(p.resolve(t))) b.release(b.reg.at(p.resolve(t)));
  for (int r : temps) b.release(r);
  const DType out = p.types.at(n.outputs[0]).dtype;
  st.round = st.reduce == Combiner::None && narrower(out, b.k.compute) && !(n.def->bool_result && out == DType::Bool);
  st.round_to = out;
  st.dst = b.take();
  if (st.per_row || st.reduce != Combiner::None) b.row_regs.insert(st.dst);
  else b.row_regs.erase(st.dst);
  // A row reduction closes a segment: per-row registers released in it may
  // be reused from here on.
  if (st.reduce != Combiner::None) {
    for (int r : b.deferred) b.release(r, true);
    b.deferred.clear();
  }
  b.reg[n.outputs[0]] = st.dst;
  b.k.body.push_back(st);
  b.k.ops.push_back(n.type);
}

}  // namespace

DType register_type(const Program& p, const detail::Node& n) {
  bool any_float = false, any64 = false;
  auto see = [&](DType dt) {
    any_float = any_float || is_floating(dt);
    any64 = any64 || dt == DType::Float64;
  };
  for (int t : n.inputs) see(p.types.at(p.resolve(t)).dtype);
  for (int t : n.outputs) see(p.types.at(t).dtype);
  return any64 ? DType::Float64 : any_float ? DType::Float32 : DType::Int64;
}

void lower(Program& p) {
  p.kernels.clear();
  for (const Region& r : p.regions) p.kernels.push_back(lower_region(p, r));
}

std::shared_ptr<const KernelDesc> lower_node(const Program& p, const detail::Node& n) {
  Region r;
  r.root = n.id;
  r.nodes = {n.id};
  return lower_region(p, r);
}

namespace {

// Lowers `body` (members in execution order) into k: the tensors it reads
// from memory become operands (of the epilogue phase when `epilogue`),
// loaded into registers numbered from `first_reg`; `preset` maps tensors
// already in registers; the registers of `stored` (extra outputs) stay live
// to the end and are appended to k.extra_regs. Returns the register holding
// `value_tensor`.
int lower_body(const Program& p, KernelDesc& k, const std::vector<const detail::Node*>& body, int value_tensor,
               int first_reg, bool epilogue, const std::map<int, int>& preset, const Dims& row_space,
               const std::vector<int>& stored = {}) {
  const std::set<int> keep(stored.begin(), stored.end());
  std::set<int> produced, external;
  for (const detail::Node* n : body) produced.insert(n->outputs[0]);
  std::vector<size_t> operands;  // indices into k.inputs
  auto add_input = [&](int t) {
    if (produced.count(t) || preset.count(t) || !external.insert(t).second) return;
    KernelOperand o;
    o.tensor = t;
    o.type = p.types.at(t);
    o.epilogue = epilogue;
    operands.push_back(k.inputs.size());
    k.inputs.push_back(o);
    k.value_read.push_back(true);
  };
  for (const detail::Node* n : body)
    for (int t : n->inputs) add_input(p.resolve(t));
  add_input(value_tensor);
  std::map<int, int> last_use;
  for (size_t i = 0; i < body.size(); ++i)
    for (int t : body[i]->inputs) last_use[p.resolve(t)] = int(i);
  last_use[value_tensor] = int(body.size());
  Builder b(p, k, first_reg, preset);
  std::set<int> invariant;
  const bool row = k.kind == KernelDesc::Kind::Row;
  for (size_t j : operands) {
    KernelOperand& o = k.inputs[j];
    if (!last_use.count(o.tensor)) continue;
    o.reg = b.take();
    b.reg[o.tensor] = o.reg;
    const Dims& dims = o.type.dims;
    o.invariant = row && num_elements(dims) == (dims.empty() ? 1 : dims.back());
    if (o.invariant) invariant.insert(o.reg);
  }
  for (size_t i = 0; i < body.size(); ++i) {
    const detail::Node& n = *body[i];
    const bool per_row = row && p.types.at(n.outputs[0]).dims != row_space;
    add_step(b, n, per_row, [&](int t) {
      return last_use[t] == int(i) && t != value_tensor && !keep.count(t) && !invariant.count(b.reg.at(t));
    });
  }
  k.num_regs = std::max(k.num_regs, b.next);
  for (int t : stored) k.extra_regs.push_back(b.reg.at(t));
  return b.reg.at(value_tensor);
}

}  // namespace

std::shared_ptr<const KernelDesc> lower_region(const Program& p, const Region& r) {
  const detail::Node& root = p.node(r.root);
  if (r.kind == Region::Kind::Single && !has_kernel(*root.def)) return nullptr;
  auto k = std::make_shared<KernelDesc>();
  for (int t : root.outputs) k->outputs.push_back(p.types.at(t));
  if (r.kind == Region::Kind::Single && !root.def->scalar) {
    k->kind = KernelDesc::Kind::Op;
    k->node = &root;
    for (size_t i = 0; i < root.inputs.size(); ++i) {
      KernelOperand o;
      o.tensor = p.resolve(root.inputs[i]);
      o.type = p.types.at(o.tensor);
      k->inputs.push_back(o);
      k->value_read.push_back(root.def->reads_value(i));
    }
    k->ops.push_back(root.type);
    k->allow_tf32 = p.allow_tf32 && root.def->cls == OpClass::Matmul;
    return k;
  }
  // A single elementwise op is an elementwise kernel of one step.
  const Region::Kind kind = r.kind == Region::Kind::Single ? Region::Kind::Elementwise : r.kind;
  k->kind = kind == Region::Kind::Elementwise ? KernelDesc::Kind::Elementwise
            : kind == Region::Kind::Reduce    ? KernelDesc::Kind::Reduce
            : kind == Region::Kind::Row       ? KernelDesc::Kind::Row
                                              : KernelDesc::Kind::Matmul;
  k->compute = r.kind == Region::Kind::Single ? register_type(p, root) : r.compute;
  std::vector<const detail::Node*> body, epilogue;
  const detail::Node* anchor = r.anchor >= 0 ? &p.node(r.anchor) : nullptr;
  const std::set<int> after(r.epilogue.begin(), r.epilogue.end());
  for (int id : r.nodes) {
    if (id == r.anchor) continue;
    (after.count(id) ? epilogue : body).push_back(&p.node(id));
  }
  if (kind == Region::Kind::Matmul) {
    // Inputs 0 and 1: the contraction's operands, read by it from memory
    // (the epilogue may read them again as inputs of its own).
    k->node = anchor;
    for (int t : anchor->inputs) {
      KernelOperand o;
      o.tensor = p.resolve(t);
      o.type = p.types.at(o.tensor);
      k->inputs.push_back(o);
      k->value_read.push_back(true);
    }
  }
  const int value_tensor = kind == Region::Kind::Reduce ? p.resolve(anchor->inputs[0]) : root.outputs[0];
  k->space = kind == Region::Kind::Reduce ? p.types.at(value_tensor).dims
             : kind == Region::Kind::Row  ? r.space
                                          : p.types.at(root.outputs[0]).dims;
  for (int t : r.extra_outputs) k->outputs.push_back(p.types.at(t));
  k->value_reg = lower_body(p, *k, body, value_tensor, 0, false, {}, r.space, r.extra_outputs);
  k->result_reg = k->value_reg;
  k->epilogue_step = k->body.size();
  if (kind == Region::Kind::Matmul)
    for (size_t j = 2; j < k->inputs.size(); ++j)
      if (k->inputs[j].tensor == anchor->outputs[0]) k->contraction_input = int(j);
  if (kind == Region::Kind::Row) {
    k->row = k->space.back();
    k->row_result = p.types.at(root.outputs[0]).dims != r.space;
  }
  if (kind == Region::Kind::Reduce) {
    k->node = anchor;
    k->reduce = anchor->def->reduction;
    const int64_t total = num_elements(k->space), outs = num_elements(p.types.at(anchor->outputs[0]).dims);
    k->row = outs ? total / outs : 0;
    k->ops.push_back(anchor->type);
    if (!epilogue.empty()) {
      // The epilogue runs over the output, after the prologue's registers,
      // on the reduced values held in `reduced_reg`.
      k->reduced_reg = k->num_regs;
      k->result_reg = lower_body(p, *k, epilogue, root.outputs[0], k->num_regs + 1, true,
                                 {{anchor->outputs[0], k->reduced_reg}}, r.space);
    }
  }
  if (kind == Region::Kind::Matmul) {
    k->ops.insert(k->ops.begin(), anchor->type);
    k->allow_tf32 = p.allow_tf32;
  }
  return k;
}

}  // namespace ts
