// Sources and state: placeholder, constant, variable, read_variable, assign.
// The executor binds these itself (feeds, folded values, the run's variable
// state), so they have no kernels.
#include "ops/infer_util.h"
#include "ops/grad_ctx.h"

namespace ts {
namespace {

std::vector<TensorType> infer_placeholder(InferCtx& c) {
  TensorType t;
  t.ranked = c.i("ranked") != 0;
  t.dims = c.ints("shape");
  t.dtype = c.dt("dtype");
  return {t};
}
std::vector<TensorType> infer_value(InferCtx& c) { return {ranked(c.node.value.shape(), c.node.value.dtype())}; }
std::vector<TensorType> infer_read(InferCtx& c) { return {c.in[0]}; }

std::vector<TensorType> infer_assign(InferCtx& c) {
  const TensorType &var = c.in[0], &val = c.in[1];
  if (var.dtype != val.dtype)
    c.fail<DTypeError>("value has dtype " + std::string(dtype_name(val.dtype)) + "; expected the variable's " +
                       dtype_name(var.dtype));
  bool ok = !val.ranked || val.dims.size() == var.dims.size();
  for (size_t d = 0; ok && val.ranked && d < val.dims.size(); ++d) ok = val.dims[d] == -1 || val.dims[d] == var.dims[d];
  if (!ok) c.fail("value has shape " + val.str() + "; expected the variable's " + var.str());
  return {};
}

std::vector<Tensor> g_read(GradCtx& c) { return {c.dy[0]}; }

OpDef def(const char* name, OpClass cls, int inputs, InferFn infer, GradFn grad = nullptr) {
  OpDef d = make_op(name, cls, inputs, infer, grad);
  d.pure = false;
  return d;
}

const bool registered = [] {
  OpDef placeholder = def("placeholder", OpClass::Source, 0, infer_placeholder);
  placeholder.fed = true;
  register_op(placeholder);
  OpDef constant = def("constant", OpClass::Source, 0, infer_value);
  constant.pure = true;
  register_op(constant);
  auto state = [](OpDef d, StateRole role) {
    d.state = role;
    register_op(d);
  };
  state(def("variable", OpClass::State, 0, infer_value), StateRole::Variable);
  state(def("read_variable", OpClass::State, 1, infer_read, g_read), StateRole::Read);
  state(def("assign", OpClass::State, 2, infer_assign), StateRole::Assign);
  return true;
}();

}  // namespace
}  // namespace ts
