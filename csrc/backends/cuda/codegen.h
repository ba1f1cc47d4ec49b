// CUDA C from kernel descriptions: the embedded prelude (shaders/cuda/shim.cuh
// plus the portable ops/scalar_math.h) and a kernel specialized to the exact
// shapes, strides and dtypes. Rendering needs no CUDA; compiling goes
// through NVRTC (backends/cuda/nvrtc.h).
#pragma once
#include <string>

#include "ir/kernel_desc.h"

namespace ts::cuda {

// Elementwise kernels: each thread computes this many elements, so a launch
// has ceil(n / (threads * kElementsPerThread)) blocks.
constexpr int kElementsPerThread = 4;
// Threads per block, for every kind of kernel.
constexpr int kThreads = 256;
// Row kernels: a block per row, of row_threads(row length) threads (about
// sixteen elements each, 32 to 1024 threads: long rows get more threads, so
// fewer registers each); rows of at most
// row_threads * kRowCachePerThread elements are kept in registers.
constexpr int kRowCachePerThread = 32;
int row_threads(int64_t row);
// The threads per block a fused kernel is launched with.
int block_threads(const KernelDesc& k);

// The C type a dtype is stored as in device memory.
const char* storage(DType dt);
// The register type of a compute type (float, double or long long).
const char* register_type(DType compute);
// A stored value `v` of dtype dt as a register of C type `c`.
std::string load_expr(DType dt, const std::string& v, const char* c);
// A register value (of compute type `compute`) converted to dtype dt as the
// host's convert<dt> does.
std::string store_expr(DType dt, const std::string& v, DType compute);

// The shim, the scalar math and the device helpers, as embedded at build time.
const char* prelude();
// The source of one fused kernel named `name` (elementwise, reduction or
// row description). Throws CompileError for other kinds.
std::string render(const KernelDesc& k, const std::string& name);

}  // namespace ts::cuda
