// Compiled kernels shared by equal descriptions: a model whose layers have
// the same shapes compiles each distinct kernel once (NVRTC takes
// milliseconds a kernel), across the steps of a plan and across the plans
// of one executable. Keyed by a fingerprint of everything a backend reads
// in a description: kinds, dtypes, shapes, registers, scalar functions,
// the op and its attributes.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/backend.h"

namespace ts {

std::string fingerprint(const KernelDesc& k);

class KernelCache {
 public:
  // The compiled kernel for an equal description, compiling it if new.
  std::shared_ptr<const CompiledKernel> compile(Backend& backend, const std::shared_ptr<const KernelDesc>& desc);
  // compile() of each, in order; distinct new kernels of a device backend
  // compile on several threads at once (a plan's first compile is mostly
  // NVRTC time). The first error is rethrown.
  std::vector<std::shared_ptr<const CompiledKernel>> compile_all(
      Backend& backend, const std::vector<std::shared_ptr<const KernelDesc>>& descs);

 private:
  // Bounded like the plan cache, so a stream of new shapes cannot grow
  // memory without limit: the least recently used kernel goes first (plans
  // that still hold it keep it alive).
  static constexpr size_t kMaxKernels = 512;
  using Entry = std::pair<std::string, std::shared_ptr<const CompiledKernel>>;
  std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

// Kernels compiled by any backend so far, in this process (tests read it).
uint64_t kernel_compile_count();

}  // namespace ts
