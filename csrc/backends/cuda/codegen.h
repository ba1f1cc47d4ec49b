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
// Row kernels: a block per row, kRowThreads threads; rows of at most
// kRowThreads * kRowCachePerThread elements are kept in registers.
constexpr int kRowThreads = kThreads;
constexpr int kRowCachePerThread = 32;

// The shim and the scalar math, as embedded at build time.
const char* prelude();
// The source of one kernel named `name`: elementwise descriptions so far
// (one thread per element). Throws CompileError for other kinds.
std::string render(const KernelDesc& k, const std::string& name);

}  // namespace ts::cuda
