// The CPU kernel of matmul (OpenBLAS for floats; backends/cpu/matmul.cpp).
#include "backends/cpu/kernel_table.h"
#include "backends/cpu/matmul.h"

namespace ts::cpu {
namespace {

void matmul_kernel(KernelCtx& k) { matmul_op(k.node, k.in[0], k.in[1], k.out[0]); }

TS_CPU_KERNEL("matmul", matmul_kernel);

}  // namespace
}  // namespace ts::cpu
