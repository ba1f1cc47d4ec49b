// The CPU backend's kernel table: the one place it knows ops by name. Each
// kernel file registers its kernels with TS_CPU_KERNEL; the backend looks an
// op's kernel up when it compiles a step.
#pragma once
#include <string>
#include <vector>

#include <memory>

#include "ir/graph_data.h"
#include "ir/kernel_desc.h"

namespace ts::cpu {

// What a kernel sees: inputs, and outputs already allocated with their
// concrete types.
struct KernelCtx {
  const detail::Node& node;
  const std::vector<NDArray>& in;
  std::vector<NDArray>& out;
  // What the kernel's prepare step derived from the attributes and the
  // concrete shapes at plan time (nullptr without one).
  const void* params = nullptr;
  // The run's index (the executable's run counter): random ops draw from it.
  uint64_t run = 0;
  int64_t i(const char* key) const;
  double f(const char* key) const;
  const std::string& s(const char* key) const;
  const std::vector<int64_t>& ints(const char* key) const;
  // A normalized axis attribute ("axis", negative counts from the end;
  // absent means the last axis).
  int axis(int rank, const char* key = "axis") const;
};

using Kernel = void (*)(KernelCtx&);
// Runs once at plan time: turns attributes into what the kernel reads at
// run time (index maps, say), so runs repeat no attribute work.
using Prepare = std::shared_ptr<const void> (*)(const KernelDesc&);
struct KernelEntry {
  Kernel run = nullptr;
  Prepare prepare = nullptr;
};

bool register_kernel(const char* op, Kernel fn, Prepare prepare = nullptr);
// run is nullptr when the CPU has no kernel for the op.
KernelEntry find_kernel(const std::string& op);
std::vector<std::string> kernel_names();

}  // namespace ts::cpu

#define TS_CPU_CAT2(a, b) a##b
#define TS_CPU_CAT(a, b) TS_CPU_CAT2(a, b)
// Registers `fn` (and optionally its prepare step) as op `name`'s CPU kernel at load time.
#define TS_CPU_KERNEL(name, ...) \
  static const bool TS_CPU_CAT(ts_cpu_kernel_, __COUNTER__) = ::ts::cpu::register_kernel(name, __VA_ARGS__)
