// Elementwise binary ops with NumPy broadcasting and type promotion.
#include <cmath>

#include "ops/elementwise_ops.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using Grads = std::vector<Tensor>;

DType promoted(const InferCtx& c) { return promote_types(c.in[0].dtype, c.in[1].dtype); }

std::vector<TensorType> infer_arith(InferCtx& c) { return {broadcast(c, c.in, promoted(c))}; }
std::vector<TensorType> infer_arith_nobool(InferCtx& c) {
  DType p = promoted(c);
  if (p == DType::Bool) c.fail<DTypeError>("got bool and bool; expected numeric operands");
  return {broadcast(c, c.in, p)};
}
// Integer operands give float32, like the float-only unary ops.
std::vector<TensorType> infer_float(InferCtx& c) {
  DType p = promoted(c);
  return {broadcast(c, c.in, is_floating(p) ? p : DType::Float32)};
}
std::vector<TensorType> infer_bool(InferCtx& c) { return {broadcast(c, c.in, DType::Bool)}; }

// ---- gradient rules; the engine sums each back over broadcast dims via sum_to ----
#define TS_GRAD2(name, ga, gb)                                                          \
  Grads name(GradCtx& c) {                                                             \
    const Tensor &a = c.x[0], &b = c.x[1], &y = c.y[0], &dy = c.dy[0];                 \
    (void)a; (void)b; (void)y; (void)dy;                                               \
    return {c.sum_to(ga, a), c.sum_to(gb, b)};                                         \
  }
TS_GRAD2(g_add, dy, dy)
TS_GRAD2(g_subtract, dy, c.neg(dy))
TS_GRAD2(g_multiply, c.mul(dy, b), c.mul(dy, a))
TS_GRAD2(g_divide, c.div(dy, b), c.neg(c.div(c.mul(dy, y), b)))
TS_GRAD2(g_power, c.mul(dy, c.mul(b, c.op("power", {a, c.sub(b, c.c(1, b))}))),
         c.mul(dy, c.mul(y, c.op("select", {c.op("greater", {a, c.c(0, a)}), c.op("log", {a}), c.c(0, y)}))))
// Ties go to the first operand, as in TensorFlow.
TS_GRAD2(g_maximum, c.op("select", {c.op("greater_equal", {a, b}), dy, c.c(0, dy)}),
         c.op("select", {c.op("greater_equal", {a, b}), c.c(0, dy), dy}))
TS_GRAD2(g_minimum, c.op("select", {c.op("less_equal", {a, b}), dy, c.c(0, dy)}),
         c.op("select", {c.op("less_equal", {a, b}), c.c(0, dy), dy}))
TS_GRAD2(g_atan2, c.div(c.mul(dy, b), c.add(c.op("square", {a}), c.op("square", {b}))),
         c.neg(c.div(c.mul(dy, a), c.add(c.op("square", {a}), c.op("square", {b})))))
TS_GRAD2(g_modulo, dy, c.neg(c.mul(dy, c.op("floor_divide", {a, b}))))
TS_GRAD2(g_floor_divide, c.zeros_like(y), c.zeros_like(y))
#undef TS_GRAD2

// `identity`: the right operand that leaves the left unchanged (NaN: none).
void arith(const char* name, const char* scalar, InferFn infer, GradFn grad, double identity = NAN,
           bool commutative = false, std::vector<InputDomain> domains = {}) {
  OpDef d = elementwise_def(name, 2, infer, grad, scalar);
  d.dtypes = infer == infer_arith_nobool ? kNumericDTypes : kAllDTypes;
  d.domains = std::move(domains);
  d.has_identity = !std::isnan(identity);
  d.identity = d.has_identity ? identity : 0;
  d.commutative = commutative;
  register_op(d);
}
void predicate(const char* name, const char* scalar) {
  OpDef d = elementwise_def(name, 2, infer_bool, nullptr, scalar);
  d.bool_result = true;
  register_op(d);
}

const bool registered = [] {
  arith("add", "Add", infer_arith, g_add, 0, true);
  arith("subtract", "Subtract", infer_arith_nobool, g_subtract, 0);
  arith("multiply", "Multiply", infer_arith, g_multiply, 1, true);
  arith("divide", "Divide", infer_float, g_divide, 1, false, {InputDomain::Real, InputDomain::NonZero});
  arith("floor_divide", "FloorDivide", infer_arith_nobool, g_floor_divide, NAN, false,
        {InputDomain::Real, InputDomain::NonZero});
  arith("modulo", "Modulo", infer_arith_nobool, g_modulo, NAN, false, {InputDomain::Real, InputDomain::NonZero});
  arith("power", "Power", infer_arith_nobool, g_power, NAN, false, {InputDomain::Positive, InputDomain::Exponent});
  arith("maximum", "Maximum", infer_arith, g_maximum);
  arith("minimum", "Minimum", infer_arith, g_minimum);
  arith("atan2", "Atan2", infer_float, g_atan2);
  predicate("equal", "Equal");
  predicate("not_equal", "NotEqual");
  predicate("less", "Less");
  predicate("less_equal", "LessEqual");
  predicate("greater", "Greater");
  predicate("greater_equal", "GreaterEqual");
  predicate("logical_and", "LogicalAnd");
  predicate("logical_or", "LogicalOr");
  predicate("logical_xor", "LogicalXor");
  return true;
}();

}  // namespace
}  // namespace ts
