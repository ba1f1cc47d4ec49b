// Elementwise unary ops: one row each (name, functor, gradient rule).
#include "ops/elementwise_ops.h"
#include "ops/elementwise_math.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

using cpu::Domain;

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

template <class F>
void float_op(const char* name, GradFn grad) {
  OpDef d = elementwise_def(name, 1, infer_float, cpu::unary<F, Domain::Float, false>, grad);
  d.tile = cpu::tile_of<F, 1>;
  register_op(d);
}
template <class F>
void numeric_op(const char* name, GradFn grad) {
  OpDef d = elementwise_def(name, 1, infer_numeric, cpu::unary<F, Domain::Numeric, false>, grad);
  d.tile = cpu::tile_of<F, 1>;
  register_op(d);
}
template <class F>
void predicate_op(const char* name) {
  OpDef d = elementwise_def(name, 1, infer_predicate, cpu::unary<F, Domain::Any, true>, nullptr);
  d.tile = cpu::tile_of<F, 1>;
  d.bool_result = true;
  register_op(d);
}

void cast_kernel(KernelCtx& k) { k.in[0].copy_into(k.out[0]); }

// In a region, a cast rounds through its target type so the register holds
// exactly what the unfused cast would have stored.
template <class To>
struct CastTo {
  template <class C> static C f(C a) { return C(compute_t<To>(convert<To>(a))); }
};
TileFns cast_tile(const detail::Node& n) {
  TileFns fns;
  dispatch_all(InferCtx{n, {}}.dt("dtype"), [&](auto tag) { fns = cpu::tile_of<CastTo<decltype(tag)>, 1>(n); });
  return fns;
}

const bool registered = [] {
  using namespace math;
  float_op<Exp>("exp", g_exp);
  float_op<Exp2>("exp2", g_exp2);
  float_op<Log>("log", g_log);
  float_op<Log2>("log2", g_log2);
  float_op<Log1p>("log1p", g_log1p);
  float_op<Expm1>("expm1", g_expm1);
  float_op<Sin>("sin", g_sin);
  float_op<Cos>("cos", g_cos);
  float_op<Tan>("tan", g_tan);
  float_op<Asin>("asin", g_asin);
  float_op<Acos>("acos", g_acos);
  float_op<Atan>("atan", g_atan);
  float_op<Sinh>("sinh", g_sinh);
  float_op<Cosh>("cosh", g_cosh);
  float_op<Tanh>("tanh", g_tanh);
  float_op<Asinh>("asinh", g_asinh);
  float_op<Acosh>("acosh", g_acosh);
  float_op<Atanh>("atanh", g_atanh);
  float_op<Erf>("erf", g_erf);
  float_op<Sqrt>("square_root", g_sqrt);
  float_op<Rsqrt>("reciprocal_square_root", g_rsqrt);
  float_op<Reciprocal>("reciprocal", g_reciprocal);
  float_op<Sigmoid>("sigmoid", g_sigmoid);
  float_op<Gelu>("gelu", g_gelu);
  numeric_op<Negative>("negative", g_negative);
  numeric_op<Abs>("abs", g_abs);
  numeric_op<Sign>("sign", g_zero);
  numeric_op<Square>("square", g_square);
  numeric_op<Floor>("floor", g_zero);
  numeric_op<Ceil>("ceil", g_zero);
  numeric_op<Round>("round", g_zero);
  numeric_op<Relu>("relu", g_relu);
  predicate_op<IsNan>("is_nan");
  predicate_op<IsInf>("is_inf");
  predicate_op<IsFinite>("is_finite");
  predicate_op<LogicalNot>("logical_not");

  OpDef identity = elementwise_def("identity", 1, infer_same, nullptr, g_identity);
  identity.view = true;
  register_op(identity);
  OpDef cast = elementwise_def("cast", 1, infer_cast, cast_kernel, g_cast);
  cast.tile = cast_tile;
  cast.bool_result = true;  // to bool it gives 0 or 1
  register_op(cast);
  return true;
}();

}  // namespace
}  // namespace ts
