// Elementwise unary ops: one row each (name, functor, gradient rule).
#include "ops/elementwise_ops.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

// Float math: integers and bool are promoted to float32.
std::vector<TensorType> infer_float(InferCtx& c) {
  TensorType t = c.in[0];
  if (!is_floating(t.dtype)) t.dtype = DType::Float32;
  return {t};
}
std::vector<TensorType> infer_numeric(InferCtx& c) {
  expect_dtype(c, c.in[0].dtype != DType::Bool, c.in[0], "a numeric dtype (not bool)");
  return {c.in[0]};
}
std::vector<TensorType> infer_predicate(InferCtx& c) {
  TensorType t = c.in[0];
  t.dtype = DType::Bool;
  return {t};
}
std::vector<TensorType> infer_same(InferCtx& c) { return {c.in[0]}; }
std::vector<TensorType> infer_cast(InferCtx& c) {
  TensorType t = c.in[0];
  t.dtype = c.dt("dtype");
  return {t};
}


// ---- gradient rules: dx = dy * f'(x), written with graph ops ----
using Grads = std::vector<Tensor>;
#define TS_GRAD(name, expr) \
  Grads name(GradCtx& c) { const Tensor &x = c.x[0], &y = c.y[0], &dy = c.dy[0]; (void)x; (void)y; (void)dy; return {expr}; }
constexpr double kLn2 = 0.69314718055994530942, kTwoOverSqrtPi = 1.12837916709551257390,
                 kInvSqrt2Pi = 0.39894228040143267794, kSqrtHalf = 0.70710678118654752440;
TS_GRAD(g_exp, c.mul(dy, y))
TS_GRAD(g_exp2, c.mul(dy, c.mul(y, c.c(kLn2, y))))
TS_GRAD(g_log, c.mul(c.op("reciprocal", {x}), dy))
TS_GRAD(g_log2, c.div(dy, c.mul(x, c.c(kLn2, x))))
TS_GRAD(g_log1p, c.div(dy, c.add(x, c.c(1, x))))
TS_GRAD(g_expm1, c.mul(dy, c.add(y, c.c(1, y))))
TS_GRAD(g_sin, c.mul(dy, c.op("cos", {x})))
TS_GRAD(g_cos, c.neg(c.mul(dy, c.op("sin", {x}))))
TS_GRAD(g_tan, c.mul(dy, c.add(c.c(1, y), c.op("square", {y}))))
TS_GRAD(g_asin, c.mul(dy, c.op("reciprocal_square_root", {c.sub(c.c(1, x), c.op("square", {x}))})))
TS_GRAD(g_acos, c.neg(c.mul(dy, c.op("reciprocal_square_root", {c.sub(c.c(1, x), c.op("square", {x}))}))))
TS_GRAD(g_atan, c.div(dy, c.add(c.c(1, x), c.op("square", {x}))))
TS_GRAD(g_sinh, c.mul(dy, c.op("cosh", {x})))
TS_GRAD(g_cosh, c.mul(dy, c.op("sinh", {x})))
TS_GRAD(g_tanh, c.mul(dy, c.sub(c.c(1, y), c.op("square", {y}))))
TS_GRAD(g_asinh, c.mul(dy, c.op("reciprocal_square_root", {c.add(c.op("square", {x}), c.c(1, x))})))
TS_GRAD(g_acosh, c.mul(dy, c.op("reciprocal_square_root", {c.sub(c.op("square", {x}), c.c(1, x))})))
TS_GRAD(g_atanh, c.div(dy, c.sub(c.c(1, x), c.op("square", {x}))))
TS_GRAD(g_erf, c.mul(dy, c.mul(c.c(kTwoOverSqrtPi, x), c.op("exp", {c.neg(c.op("square", {x}))}))))
TS_GRAD(g_sqrt, c.div(c.mul(dy, c.c(0.5, y)), y))
TS_GRAD(g_rsqrt, c.mul(dy, c.mul(c.c(-0.5, y), c.div(y, x))))
TS_GRAD(g_reciprocal, c.neg(c.mul(dy, c.op("square", {y}))))
TS_GRAD(g_sigmoid, c.mul(dy, c.mul(y, c.sub(c.c(1, y), y))))
TS_GRAD(g_gelu, c.mul(dy, c.add(c.mul(c.c(0.5, x), c.add(c.c(1, x), c.op("erf", {c.mul(x, c.c(kSqrtHalf, x))}))),
                                  c.mul(c.mul(x, c.c(kInvSqrt2Pi, x)),
                                        c.op("exp", {c.mul(c.op("square", {x}), c.c(-0.5, x))})))))
TS_GRAD(g_negative, c.neg(dy))
TS_GRAD(g_abs, c.mul(dy, c.op("sign", {x})))
TS_GRAD(g_square, c.mul(dy, c.mul(x, c.c(2, x))))
TS_GRAD(g_relu, c.op("select", {c.op("greater", {x, c.c(0, x)}), dy, c.c(0, dy)}))
TS_GRAD(g_zero, c.zeros_like(x))
TS_GRAD(g_identity, dy)
TS_GRAD(g_cast, is_floating(x.dtype()) ? c.op("cast", {dy}, {{"dtype", x.dtype()}}) : Tensor())
#undef TS_GRAD

using D = InputDomain;

void float_op(const char* name, const char* scalar, GradFn grad, InputDomain domain = D::Real) {
  OpDef d = elementwise_def(name, 1, infer_float, grad, scalar);
  d.domains = {domain};
  register_op(d);
}
void numeric_op(const char* name, const char* scalar, GradFn grad) {
  OpDef d = elementwise_def(name, 1, infer_numeric, grad, scalar);
  d.dtypes = kNumericDTypes;
  register_op(d);
}
void predicate_op(const char* name, const char* scalar) {
  OpDef d = elementwise_def(name, 1, infer_predicate, nullptr, scalar);
  d.bool_result = true;
  register_op(d);
}

const bool registered = [] {
  float_op("exp", "Exp", g_exp, D::Moderate);
  float_op("exp2", "Exp2", g_exp2, D::Moderate);
  float_op("log", "Log", g_log, D::Positive);
  float_op("log2", "Log2", g_log2, D::Positive);
  float_op("log1p", "Log1p", g_log1p, D::AboveMinusOne);
  float_op("expm1", "Expm1", g_expm1, D::Moderate);
  float_op("sin", "Sin", g_sin);
  float_op("cos", "Cos", g_cos);
  float_op("tan", "Tan", g_tan, D::Small);
  float_op("asin", "Asin", g_asin, D::Unit);
  float_op("acos", "Acos", g_acos, D::Unit);
  float_op("atan", "Atan", g_atan);
  float_op("sinh", "Sinh", g_sinh, D::Moderate);
  float_op("cosh", "Cosh", g_cosh, D::Moderate);
  float_op("tanh", "Tanh", g_tanh);
  float_op("asinh", "Asinh", g_asinh);
  float_op("acosh", "Acosh", g_acosh, D::AboveOne);
  float_op("atanh", "Atanh", g_atanh, D::Unit);
  float_op("erf", "Erf", g_erf);
  float_op("square_root", "Sqrt", g_sqrt, D::Positive);
  float_op("reciprocal_square_root", "Rsqrt", g_rsqrt, D::Positive);
  float_op("reciprocal", "Reciprocal", g_reciprocal, D::NonZero);
  float_op("sigmoid", "Sigmoid", g_sigmoid);
  float_op("gelu", "Gelu", g_gelu);
  numeric_op("negative", "Negative", g_negative);
  numeric_op("abs", "Abs", g_abs);
  numeric_op("sign", "Sign", g_zero);
  numeric_op("square", "Square", g_square);
  numeric_op("floor", "Floor", g_zero);
  numeric_op("ceil", "Ceil", g_zero);
  numeric_op("round", "Round", g_zero);
  numeric_op("relu", "Relu", g_relu);
  predicate_op("is_nan", "IsNan");
  predicate_op("is_inf", "IsInf");
  predicate_op("is_finite", "IsFinite");
  predicate_op("logical_not", "LogicalNot");

  OpDef identity = make_op("identity", OpClass::Elementwise, 1, infer_same, g_identity);
  identity.view = true;
  register_op(identity);
  // The value itself; gradients do not flow back through it (they are zero).
  OpDef stop_gradient = make_op("stop_gradient", OpClass::Elementwise, 1, infer_same, g_zero);
  stop_gradient.view = true;
  register_op(stop_gradient);
  // The value itself, rounded to the target dtype like every result.
  register_op(elementwise_def("cast", 1, infer_cast, g_cast, "Identity"));
  return true;
}();

}  // namespace
}  // namespace ts
