// The CUDA backend's kernel table: the kernels of the ops that are not
// elementwise (movement, indexing, reductions along any axes, softmax,
// scans, sorting, matmul). It is the one place the backend knows ops by
// name. Each entry renders a kernel specialized to the description's exact
// shapes, dtypes and attributes.
#pragma once
#include <sstream>
#include <string>
#include <vector>

#include "backends/cuda/codegen.h"
#include "ops/op_def.h"

namespace ts::cuda {

// What an op's renderer produces. The kernel's parameters are fixed:
//   (const long long* table, long long* err, long long tag,
//    unsigned long long run, char* ws, const <in0>* in0, ..., <out0>* out0, ...)
// `table` holds `table` below (index maps and the like, uploaded once);
// `err` and `tag` report bad indices (TS_INDEX in the body); `run` is the
// run's index (random ops draw from it); `ws` is the step's workspace.
struct OpSource {
  std::string body;               // the statements of the kernel
  std::vector<int64_t> table;
  int64_t blocks = 0;             // 0: nothing to launch (empty output)
  int64_t threads = kThreads;
  int64_t workspace_bytes = 0;
  bool copy_first = false;        // output 0 starts as a copy of input 0 (scatters)
  const char* index_what = nullptr;  // reports bad indices: "axis" or "dimension"
  bool exact = false;             // compiled without FMA contraction (bit-equal to the CPU)
};

using OpRenderer = OpSource (*)(const KernelDesc&);
bool register_op_kernel(const char* op, OpRenderer render);
// nullptr when no CUDA kernel exists for the op.
OpRenderer find_op_kernel(const std::string& op);
std::vector<std::string> op_kernel_names();

// The whole kernel source (signature and body) named `name`; `out` gets the
// launch facts. CompileError when the op has no CUDA kernel.
std::string render_op(const KernelDesc& k, const std::string& name, OpSource* out);

// A Matmul step runs as two kernels: the product alone (an Op step of the
// anchor), then the epilogue, an elementwise kernel that reads the product
// as its contraction input.
KernelDesc matmul_product(const KernelDesc& k);
KernelDesc matmul_epilogue(const KernelDesc& k);
// Every kernel source a step compiles to, named `name` (Matmul steps: our
// product kernel `name`_product, used where cuBLASLt is not, then the
// epilogue `name`). For inspection and for compiling in CI without a GPU.
std::string render_step(const KernelDesc& k, const std::string& name);

// ---- helpers for the renderers ----
Dims strides_of(const Dims& dims);
// Blocks for a grid-stride loop over n elements with kThreads threads.
int64_t blocks_for(int64_t n);
// `for (long long var = ...; var < n; ...)` striding over the whole grid.
std::string grid_loop(const char* var, int64_t n);
// A divisor literal: v, or 1 where v is 0 (the code is never reached then,
// but a division by a literal 0 must not be compiled).
std::string divisor(int64_t v);
// Statements that split linear index `var` of `dims` into coordinates
// named <prefix>0, <prefix>1, ...
std::string coords(const Dims& dims, const std::string& var, const std::string& prefix);
// The register type a dtype computes in when accumulated: double for
// floats, long long for integers and bool.
DType accumulator(DType dt);
// The register type a dtype's values are computed in, as the host's
// compute_t (integers widened): float64, float32 (narrower floats too) or int64.
DType compute_of(DType dt);
// outer x n x inner around `axis` of `dims`.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisView axis_view(const Dims& dims, int axis);
// Where line `var` (of outer * inner lines along the axis) starts: its
// element 0, with the line's elements `inner` apart.
std::string line_start(const AxisView& v, const std::string& var);
// A normalized axis attribute (absent: the last axis).
int axis_attr(const KernelDesc& k, int rank);
// A literal of value v stored as dtype dt (its bits, for fills).
std::string literal(DType dt, double v);

}  // namespace ts::cuda

#define TS_CUDA_CAT2(a, b) a##b
#define TS_CUDA_CAT(a, b) TS_CUDA_CAT2(a, b)
// Registers `fn` as op `name`'s CUDA kernel renderer at load time.
#define TS_CUDA_KERNEL(name, fn) \
  static const bool TS_CUDA_CAT(ts_cuda_kernel_, __COUNTER__) = ::ts::cuda::register_op_kernel(name, fn)
