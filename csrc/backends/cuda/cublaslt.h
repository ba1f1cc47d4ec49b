// Matmul through cuBLASLt, loaded at run time (dlopen of libcublasLt from
// the pip package or the toolkit). A GemmPlan is made once per step at plan
// time: descriptors, layouts and the algorithm the heuristic picked.
#pragma once
#include <memory>
#include <string>

#include "backends/cuda/driver.h"
#include "backends/cuda/matmul_shape.h"

namespace ts::cuda {

struct GemmPlan;

// A plan for `s` in dtype dt (float16, bfloat16, float32 or float64; TF32
// tensor cores for float32 when `tf32`), or nullptr when cuBLASLt cannot
// run it (another dtype, an empty product, no library: `why` says which).
std::shared_ptr<GemmPlan> plan_gemm(const MatmulShape& s, DType dt, bool tf32, std::string* why);
// The workspace a launch needs (bytes, including room to align it).
int64_t gemm_workspace(const GemmPlan& p);
// c = a @ b on `stream`.
void run_gemm(const GemmPlan& p, const void* a, const void* b, void* c, void* workspace, CUstream stream);

}  // namespace ts::cuda
