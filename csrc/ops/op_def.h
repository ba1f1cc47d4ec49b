// The declaration of an op (DESIGN.md "One op, one place"): its name, its
// class, its shape/dtype rule, its gradient rule, its fusion role and, for
// elementwise ops, its scalar function (ops/scalar_math.h). Kernels live
// with each backend (under csrc/backends, one folder each), keyed by the
// op's name.
#pragma once
#include <string>
#include <vector>

#include "ir/graph_data.h"
#include "ir/kernel_desc.h"
#include "tensorstitch/error.h"

namespace ts {

enum class OpClass {
  Source,       // placeholder, constant
  State,        // variable, read_variable, assign
  Elementwise,  // fusable, same-shape-after-broadcast
  Reduction,
  Matmul,
  Movement,     // reshape, slice, concat, ... (views when `view` is set)
  Indexing,     // gather, scatter_add, one_hot
  Sort,         // sort, top_k, cumsum
  Random,       // random_uniform, random_normal: counter-based, a new value every run
  Control,      // if_then_else, while_loop, for_loop: run bodies (Node::bodies), no kernel of their own
};

// The input values an op is defined on. Tests sample each input from its
// domain and keep finite differences inside it.
enum class InputDomain { Real, Positive, Unit, AboveOne, AboveMinusOne, NonZero, Exponent, Moderate, Small };
const char* domain_name(InputDomain d);
// A set of dtypes, one bit per DType.
using DTypeSet = uint32_t;
constexpr DTypeSet dtype_bit(DType t) { return DTypeSet(1) << int(t); }
constexpr DTypeSet kAllDTypes = (DTypeSet(1) << kNumDTypes) - 1;
constexpr DTypeSet kNumericDTypes = kAllDTypes & ~dtype_bit(DType::Bool);
// The executor binds state ops itself: variables, reads of them, assignments.
enum class StateRole { None, Variable, Read, Assign };
// Control-flow ops: what the executor does with their bodies.
enum class ControlKind { None, Branch, WhileLoop, ForLoop };

// What a shape/dtype rule sees: the node (attributes, name) and input types.
struct InferCtx {
  const detail::Node& node;
  std::vector<TensorType> in;
  // Control flow: per body, its results' types for these input types (set
  // by specialization; the bodies' own types otherwise).
  const std::vector<std::vector<TensorType>>* body_results = nullptr;

  std::string where() const { return detail::describe(node); }
  template <class E = ShapeError>
  [[noreturn]] void fail(const std::string& msg) const { throw E(where() + ": " + msg); }

  bool has(const char* key) const { return node.attrs.count(key) != 0; }
  int64_t i(const char* key) const;
  double f(const char* key) const;  // accepts int attributes too
  const std::string& s(const char* key) const;
  const std::vector<int64_t>& ints(const char* key) const;
  DType dt(const char* key) const;
};

struct GradCtx;  // csrc/ops/grad_ctx.h

using InferFn = std::vector<TensorType> (*)(InferCtx&);
// Given the gradients of the outputs, returns one gradient per input (an
// undefined Tensor where the input gets none).
using GradFn = std::vector<Tensor> (*)(GradCtx&);

struct OpDef {
  std::string name;
  OpClass cls = OpClass::Elementwise;
  InferFn infer = nullptr;
  GradFn grad = nullptr;
  int num_inputs = -1;  // -1: any number
  bool view = false;    // output 0 is input 0 reinterpreted with another shape
  bool pure = true;     // may be constant-folded and deduplicated
  bool differentiable = true;
  // Elementwise ops: the functor in ops/scalar_math.h that computes one
  // element (listed in TS_SCALAR_FUNCTIONS). Every backend's elementwise
  // and fused kernels run it; an op without one is not elementwise.
  const char* scalar = nullptr;
  // The functor returns 0 or 1 (predicates), so its register needs no
  // rounding to a bool result.
  bool bool_result = false;
  // Elementwise ops: the input dtypes its shape rule accepts (the tests
  // check both ways), and each input's value domain (empty: all Real).
  DTypeSet dtypes = kAllDTypes;
  std::vector<InputDomain> domains;
  // What the compile passes need to know, declared here so that no pass
  // names an op:
  Combiner reduction = Combiner::None;  // reductions: how values combine
  // x op identity == x (also identity op x when commutative): folding drops the op.
  bool has_identity = false;
  double identity = 0;
  bool commutative = false;
  bool broadcast = false;  // output 0 is input 0 broadcast to another shape
  bool fed = false;        // its value comes from a feed (placeholder)
  StateRole state = StateRole::None;
  ControlKind control = ControlKind::None;  // OpClass::Control ops
  // Bit i set: input i is read only for its shape, so its producer need not
  // run once shapes are known (shape_of, and the *_like gradient helpers).
  uint32_t shape_inputs = 0;
  bool reads_value(size_t input) const { return !(shape_inputs >> input & 1u); }
};

// The usual declaration: differentiable exactly when it has a gradient rule.
inline OpDef make_op(const char* name, OpClass cls, int inputs, InferFn infer, GradFn grad) {
  OpDef d;
  d.name = name;
  d.cls = cls;
  d.num_inputs = inputs;
  d.infer = infer;
  d.grad = grad;
  d.differentiable = grad != nullptr;
  return d;
}

// A backend runs a kernel for it (views, sources and state ops have none).
inline bool has_kernel(const OpDef& d) {
  return !d.view && d.state == StateRole::None && d.cls != OpClass::Source && d.cls != OpClass::Control;
}

// Attribute lookups that raise GraphError naming the node when missing or mistyped.
int64_t attr_int(const detail::Node& n, const char* key);
double attr_float(const detail::Node& n, const char* key);  // accepts ints too
const std::string& attr_str(const detail::Node& n, const char* key);
const std::vector<int64_t>& attr_ints(const detail::Node& n, const char* key);

void register_op(const OpDef& def);
// nullptr when unknown.
const OpDef* find_op(const std::string& name);
std::vector<std::string> op_names();

}  // namespace ts
