// The CPU backend's kernel table: the one place it knows ops by name. Each
// kernel file registers its kernels with TS_CPU_KERNEL; the backend looks an
// op's kernel up when it compiles a step.
#pragma once
#include <string>
#include <vector>

#include "ir/graph_data.h"

namespace ts::cpu {

// What a kernel sees: inputs, and outputs already allocated with their
// concrete types.
struct KernelCtx {
  const detail::Node& node;
  const std::vector<NDArray>& in;
  std::vector<NDArray>& out;
  int64_t i(const char* key) const;
  double f(const char* key) const;
  const std::string& s(const char* key) const;
  const std::vector<int64_t>& ints(const char* key) const;
  // A normalized axis attribute ("axis", negative counts from the end).
  int axis(int rank, const char* key = "axis") const;
};

using Kernel = void (*)(KernelCtx&);

bool register_kernel(const char* op, Kernel fn);
// nullptr when the CPU has no kernel for the op.
Kernel find_kernel(const std::string& op);
std::vector<std::string> kernel_names();

}  // namespace ts::cpu

#define TS_CPU_CAT2(a, b) a##b
#define TS_CPU_CAT(a, b) TS_CPU_CAT2(a, b)
// Registers `fn` as op `name`'s CPU kernel at load time.
#define TS_CPU_KERNEL(name, fn) \
  static const bool TS_CPU_CAT(ts_cpu_kernel_, __COUNTER__) = ::ts::cpu::register_kernel(name, fn)
