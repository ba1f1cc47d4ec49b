// What the compile pipeline works on: the part of a graph that a set of
// targets needs, specialized to concrete feed types. Each pass is a function
// Program -> Program (in place), in its own file.
#pragma once
#include <memory>
#include <unordered_map>
#include <vector>

#include "ir/graph_data.h"
#include "ir/kernel_desc.h"

namespace ts {

// A unit of execution (DESIGN.md): one op, or elementwise ops stitched into
// one kernel, optionally around an anchor: a matmul (they are its
// epilogue) or a trailing-axes reduction (they are its prologue, shaped like
// its input, and its epilogue, shaped like its output).
struct Region {
  // Row: values of one shape S and of S with its last dimension 1 (from
  // last-axis reductions), computed one row at a time.
  enum class Kind { Single, Elementwise, Reduce, Matmul, Row };
  Kind kind = Kind::Single;
  std::vector<int> nodes;  // members in execution order
  int anchor = -1;         // the matmul or reduction node, if any
  std::vector<int> epilogue;  // Reduce: the members after the reduction
  // Elementwise: members' tensors stored besides the root's (targets, or
  // values that regions running later read too).
  std::vector<int> extra_outputs;
  int root = -1;           // the node whose output leaves the region
  DType compute = DType::Float32;  // register type of a fused region: float32, float64 or int64
  Dims space;  // Row regions: the full shape whose rows are computed
};

struct Program {
  std::shared_ptr<detail::GraphData> g;
  std::vector<int> nodes;                      // node ids to execute, in execution order
  std::unordered_map<int, TensorType> types;   // tensor id -> concrete type
  std::unordered_map<int, NDArray> known;      // tensor id -> value known at compile time
  std::vector<int> feeds;                      // placeholder tensor ids, in feed order
  std::vector<TensorType> feed_types;          // concrete
  std::vector<int> targets;                    // tensor ids
  std::vector<int> target_ops;                 // node ids
  bool allow_tf32 = false;                     // float32 products may use TF32 (lowered into matmul kernels)
  bool fusion = true;                          // false: every node its own region
  std::unordered_map<int, int> alias;          // tensor id -> tensor id with the same value
  std::vector<Region> regions;                 // after fuse(), in execution order
  // After lower(): per region, its kernel description (nullptr: no kernel).
  std::vector<std::shared_ptr<const KernelDesc>> kernels;

  const detail::Node& node(int id) const { return g->nodes[id]; }
  int resolve(int t) const {
    for (auto it = alias.find(t); it != alias.end(); it = alias.find(t)) t = it->second;
    return t;
  }
};

// Keeps the nodes the targets and target ops need (through inputs and
// control dependencies). Before specialization every input counts, since
// shapes flow through them all; once shapes are known (`shapes_known`),
// inputs read only for their shape and tensors with known values stop
// keeping their producers alive. Raises FeedError for a needed placeholder
// that is not fed.
void prune(Program& p, bool shapes_known);
// Re-runs every shape/dtype rule on the concrete feed types (control flow:
// with its bodies' results for those types).
void specialize(Program& p);
// A control-flow body's parameter types, given its node's input types.
std::vector<TensorType> body_param_types(const detail::Body& body, const std::vector<TensorType>& node_inputs);
// Evaluates pure ops whose value inputs are known, replaces x*1, x/1, x+0,
// x-0 by x, then prunes what that made dead.
void fold(Program& p);
// Common subexpressions: a pure op with the same type, attributes and inputs
// (small constants compared by value) as an earlier one reuses its outputs.
void cse(Program& p);
// Orders nodes so that assignments run as late as their dependents allow:
// a read sees the value at the start of the run unless a control dependency
// puts it after an assignment.
void schedule(Program& p);
// Partitions the scheduled nodes into regions: maximal groups of same-shaped
// elementwise ops (a producer joins when all its users are in the region),
// fused into a matmul's epilogue or a trailing-axes reduction's prologue.
// A tensor used by several regions is materialized once. Every node becomes
// its own region when `enabled` is false.
void fuse(Program& p, bool enabled);
// The register type an elementwise node computes in: float64 if it touches
// float64, else float32 if it touches any float, else int64 (integers and
// bool). Members of a region share it.
DType register_type(const Program& p, const detail::Node& n);
// Lowers every region (fills p.kernels).
void lower(Program& p);
// Lowering: a region (or one node) as a backend-neutral kernel description;
// nullptr for a node that needs no kernel (views, sources, state).
std::shared_ptr<const KernelDesc> lower_region(const Program& p, const Region& r);
std::shared_ptr<const KernelDesc> lower_node(const Program& p, const detail::Node& n);

}  // namespace ts
