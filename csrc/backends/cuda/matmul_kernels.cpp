// The matmul shape, and our own matmul kernel: a thread per output element
// over the contraction. It serves the dtypes cuBLASLt does not (integers,
// mixed operands) and every matmul where cuBLASLt is not loaded; floats
// otherwise go to cuBLASLt (backends/cuda/cublaslt.cpp).
#include "backends/cuda/matmul_shape.h"
#include "backends/cuda/op_kernels.h"

namespace ts::cuda {

namespace {

bool flag(const detail::Node& n, const char* key) { return n.attrs.count(key) && attr_int(n, key) != 0; }

int64_t offset_of(const MatmulShape& s, const Dims& strides, int64_t i) {
  int64_t off = 0;
  for (size_t d = s.batch.size(); d-- > 0;) {
    off += i % s.batch[d] * strides[d];
    i /= s.batch[d];
  }
  return off;
}

}  // namespace

int64_t MatmulShape::a_offset(int64_t i) const { return offset_of(*this, a_stride, i); }
int64_t MatmulShape::b_offset(int64_t i) const { return offset_of(*this, b_stride, i); }

MatmulShape matmul_shape(const KernelDesc& k) {
  const Dims &a = k.inputs[0].type.dims, &b = k.inputs[1].type.dims;
  const size_t ra = a.size(), rb = b.size();
  MatmulShape s;
  s.ta = flag(*k.node, "transpose_a") && ra > 1;
  s.tb = flag(*k.node, "transpose_b") && rb > 1;
  s.k = ra == 1 ? a[0] : s.ta ? a[ra - 2] : a[ra - 1];
  if (ra > 1) s.m = s.ta ? a[ra - 1] : a[ra - 2];
  if (rb > 1) s.n = s.tb ? b[rb - 2] : b[rb - 1];
  const Dims& out = k.outputs[0].dims;
  s.batch.assign(out.begin(), out.end() - (ra > 1 ? 1 : 0) - (rb > 1 ? 1 : 0));
  auto strides = [&](const Dims& dims, size_t rank, int64_t matrix) {
    const Dims own(dims.begin(), dims.end() - std::min<size_t>(rank, 2));
    Dims st(s.batch.size(), 0);
    int64_t step = matrix;
    for (size_t d = own.size(); d-- > 0;) {
      const size_t at = s.batch.size() - own.size() + d;
      if (own[d] != 1) st[at] = step;
      step *= own[d];
    }
    return st;
  };
  s.a_stride = strides(a, ra, s.m * s.k);
  s.b_stride = strides(b, rb, s.k * s.n);
  return s;
}

namespace {

OpSource matmul(const KernelDesc& k) {
  const MatmulShape sh = matmul_shape(k);
  const DType out = k.outputs[0].dtype;
  const DType compute = compute_of(out);
  OpSource src;
  const int64_t n = num_elements(k.outputs[0].dims);
  src.blocks = blocks_for(n);
  std::ostringstream s;
  s << "  typedef " << register_type(compute) << " R;\n";
  s << "  " << grid_loop("i", n) << " {\n";
  s << "    const long long c = i % " << divisor(sh.n) << ", r = i / " << divisor(sh.n) << " % " << divisor(sh.m)
    << ", bi = i / " << divisor(sh.m * sh.n) << ";\n";
  s << coords(sh.batch, "bi", "b");
  std::string ao = "0", bo = "0";
  for (size_t d = 0; d < sh.batch.size(); ++d) {
    ao += " + b" + std::to_string(d) + " * " + std::to_string(sh.a_stride[d]) + "LL";
    bo += " + b" + std::to_string(d) + " * " + std::to_string(sh.b_stride[d]) + "LL";
  }
  const std::string a_at = sh.ta ? "p * " + std::to_string(sh.m) + "LL + r" : "r * " + std::to_string(sh.k) + "LL + p";
  const std::string b_at = sh.tb ? "c * " + std::to_string(sh.k) + "LL + p" : "p * " + std::to_string(sh.n) + "LL + c";
  s << "    const long long ao = " << ao << ", bo = " << bo << ";\n";
  s << "    R acc = R(0);\n";
  s << "    for (long long p = 0; p < " << sh.k << "LL; ++p)\n";
  s << "      acc = ts::math::wrap_add(acc, ts::math::wrap_mul("
    << load_expr(k.inputs[0].type.dtype, "in0[ao + " + a_at + "]", "R") << ", "
    << load_expr(k.inputs[1].type.dtype, "in1[bo + " + b_at + "]", "R") << "));\n";
  s << "    out0[i] = " << store_expr(out, "acc", compute) << ";\n  }\n";
  src.body = s.str();
  return src;
}

TS_CUDA_KERNEL("matmul", matmul);

}  // namespace
}  // namespace ts::cuda
