// random_uniform(shape | like, low, high, dtype, seed) and random_normal(shape
// | like, mean, stddev, dtype, seed): counter-based draws (ops/random_math.h),
// a new value every run, reproducible for a seed and run count. The optional
// input is read for its shape only (dropout on a batch of unknown size).
#include "ops/infer_util.h"

namespace ts {
namespace {

template <bool kNormal>
std::vector<TensorType> infer_random(InferCtx& c) {
  if (c.in.size() > 1) c.fail("takes at most one input (a tensor to take the shape of); got " + std::to_string(c.in.size()));
  TensorType t;
  if (c.in.size() == 1) {
    t = c.in[0];
  } else {
    t = ranked(c.ints("shape"), DType::Float32);
    for (int64_t d : t.dims)
      if (d < 0) c.fail("shape " + dims_str(t.dims) + " has a negative dimension");
    num_elements(t.dims);  // overflow check
  }
  t.dtype = c.dt("dtype");
  if (!is_floating(t.dtype)) c.fail<DTypeError>(std::string("got dtype ") + dtype_name(t.dtype) + "; expected a float dtype");
  c.i("seed");
  const double a = c.f(kNormal ? "mean" : "low"), b = c.f(kNormal ? "stddev" : "high");
  if (kNormal ? !(b >= 0) : !(a < b))
    c.fail(kNormal ? "stddev must be >= 0; got " + std::to_string(b)
                   : "low must be below high; got " + std::to_string(a) + " and " + std::to_string(b));
  return {t};
}

OpDef random_def(const char* name, InferFn infer) {
  OpDef d = make_op(name, OpClass::Random, -1, infer, nullptr);
  d.pure = false;       // a new value every run: never folded or deduplicated
  d.shape_inputs = 1u;  // the input, if any, is read for its shape
  return d;
}

const bool registered = [] {
  register_op(random_def("random_uniform", infer_random<false>));
  register_op(random_def("random_normal", infer_random<true>));
  return true;
}();

}  // namespace
}  // namespace ts
