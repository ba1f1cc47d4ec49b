#include "backends/cpu/kernel_table.h"

#include <map>

#include "ops/op_def.h"

namespace ts::cpu {
namespace {

std::map<std::string, KernelEntry>& table() {
  static std::map<std::string, KernelEntry> kernels;
  return kernels;
}

}  // namespace

bool register_kernel(const char* op, Kernel fn, Prepare prepare) {
  table()[op] = {fn, prepare};
  return true;
}

KernelEntry find_kernel(const std::string& op) {
  auto it = table().find(op);
  return it == table().end() ? KernelEntry{} : it->second;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> names;
  for (const auto& kv : table()) names.push_back(kv.first);
  return names;
}

int64_t KernelCtx::i(const char* key) const { return attr_int(node, key); }
double KernelCtx::f(const char* key) const { return attr_float(node, key); }
const std::string& KernelCtx::s(const char* key) const { return attr_str(node, key); }
const std::vector<int64_t>& KernelCtx::ints(const char* key) const { return attr_ints(node, key); }
int KernelCtx::axis(int rank, const char* key) const {
  const int a = node.attrs.count(key) ? int(i(key)) : -1;  // absent: the last axis (sort, cumsum)
  return a < 0 ? a + rank : a;
}

}  // namespace ts::cpu
