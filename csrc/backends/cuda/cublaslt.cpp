#include "backends/cuda/cublaslt.h"

#include <dlfcn.h>

#include <map>
#include <mutex>
#include <vector>

#include "backends/cuda/nvrtc.h"
#include "tensorstitch/error.h"

namespace ts::cuda {
namespace {

// The entry points used, with cuBLASLt's C signatures (handles are opaque
// pointers, enums are ints).
using Handle = void*;
struct Algo {
  uint64_t data[8];
};
struct Heuristic {
  Algo algo;
  size_t workspace;
  int state;
  float waves;
  int reserved[4];
};
struct Api {
  int (*create)(Handle*) = nullptr;
  int (*desc_create)(Handle*, int, int) = nullptr;
  int (*desc_set)(Handle, int, const void*, size_t) = nullptr;
  int (*desc_destroy)(Handle) = nullptr;
  int (*layout_create)(Handle*, int, uint64_t, uint64_t, int64_t) = nullptr;
  int (*layout_set)(Handle, int, const void*, size_t) = nullptr;
  int (*layout_destroy)(Handle) = nullptr;
  int (*pref_create)(Handle*) = nullptr;
  int (*pref_set)(Handle, int, const void*, size_t) = nullptr;
  int (*pref_destroy)(Handle) = nullptr;
  int (*heuristic)(Handle, Handle, Handle, Handle, Handle, Handle, Handle, int, Heuristic*, int*) = nullptr;
  int (*matmul)(Handle, Handle, const void*, const void*, Handle, const void*, Handle, const void*, const void*, Handle,
                void*, Handle, const Algo*, void*, size_t, CUstream) = nullptr;
  Handle handle = nullptr;
};

// cuBLASLt's enum values (cublasLt.h, cublas_api.h, library_types.h).
enum {
  kR32F = 0, kR64F = 1, kR16F = 2, kR16BF = 14,                      // cudaDataType
  kCompute32F = 68, kCompute64F = 70, kCompute32FFastTF32 = 77,      // cublasComputeType_t
  kDescTransA = 3, kDescTransB = 4,                                  // cublasLtMatmulDescAttributes_t
  kLayoutBatchCount = 5, kLayoutBatchStride = 6,                     // cublasLtMatrixLayoutAttribute_t
  kPrefMaxWorkspace = 1,                                             // cublasLtMatmulPreferenceAttributes_t
  kPrefAlignA = 5, kPrefAlignB = 6, kPrefAlignC = 7, kPrefAlignD = 8,
};
constexpr size_t kMaxWorkspace = size_t(32) << 20;

template <class F>
bool bind(void* lib, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  return fn != nullptr;
}

// The loaded library, or nullptr with `why` set.
const Api* api(std::string* why) {
  static std::mutex mu;
  static Api* loaded = nullptr;  // leaked: plans may be released during static teardown
  static std::string failure;
  std::lock_guard<std::mutex> lock(mu);
  if (loaded || !failure.empty()) {
    if (!loaded) *why = failure;
    return loaded;
  }
  std::vector<std::string> tried = library_candidates("cublasLt");
  tried.push_back("libcublasLt.so.12");
  tried.push_back("libcublasLt.so.13");
  void* lib = nullptr;
  for (const std::string& path : tried)
    if ((lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL))) break;
  if (!lib) {
    failure = "cuBLASLt is not installed (pip install \"tensorstitch[cuda]\" or the CUDA toolkit provides it)";
    *why = failure;
    return nullptr;
  }
  auto* a = new Api;
  const bool ok = bind(lib, a->create, "cublasLtCreate") && bind(lib, a->desc_create, "cublasLtMatmulDescCreate") &&
                  bind(lib, a->desc_set, "cublasLtMatmulDescSetAttribute") &&
                  bind(lib, a->desc_destroy, "cublasLtMatmulDescDestroy") &&
                  bind(lib, a->layout_create, "cublasLtMatrixLayoutCreate") &&
                  bind(lib, a->layout_set, "cublasLtMatrixLayoutSetAttribute") &&
                  bind(lib, a->layout_destroy, "cublasLtMatrixLayoutDestroy") &&
                  bind(lib, a->pref_create, "cublasLtMatmulPreferenceCreate") &&
                  bind(lib, a->pref_set, "cublasLtMatmulPreferenceSetAttribute") &&
                  bind(lib, a->pref_destroy, "cublasLtMatmulPreferenceDestroy") &&
                  bind(lib, a->heuristic, "cublasLtMatmulAlgoGetHeuristic") && bind(lib, a->matmul, "cublasLtMatmul");
  if (!ok || a->create(&a->handle) != 0) {
    delete a;
    failure = "cuBLASLt failed to load or initialize";
    *why = failure;
    return nullptr;
  }
  loaded = a;
  return loaded;
}

void check_status(int rc, const char* what) {
  if (rc != 0) throw DeviceError(std::string("cuBLASLt: ") + what + " failed (status " + std::to_string(rc) + ")");
}

// Per operand: the stride between consecutive batches when batches are
// evenly spaced (every batch dimension its own, or all broadcast), else -1.
int64_t even_stride(const MatmulShape& s, const Dims& strides, int64_t matrix) {
  bool all_zero = true, contiguous = true;
  int64_t step = matrix;
  for (size_t d = s.batch.size(); d-- > 0;) {
    all_zero = all_zero && (strides[d] == 0 || s.batch[d] == 1);
    contiguous = contiguous && (strides[d] == step || s.batch[d] == 1);
    step *= s.batch[d];
  }
  return all_zero ? 0 : contiguous ? matrix : -1;
}

}  // namespace

struct GemmPlan {
  const Api* a = nullptr;
  Handle desc = nullptr, la = nullptr, lb = nullptr, lc = nullptr;
  MatmulShape shape;
  int64_t elem = 4;
  bool per_batch = false;  // one call per batch (uneven broadcasting)
  bool f64 = false;
  size_t workspace = 0;
  // The algorithm per pointer alignment (256 bytes, else element-aligned),
  // found on first use of each.
  mutable std::mutex mu;
  mutable std::map<uint32_t, Heuristic> algos;

  ~GemmPlan() {
    if (!a) return;
    for (Handle h : {la, lb, lc})
      if (h) a->layout_destroy(h);
    if (desc) a->desc_destroy(desc);
  }

  const Heuristic& algo(uint32_t align) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = algos.find(align);
    if (it != algos.end()) return it->second;
    Handle pref = nullptr;
    check_status(a->pref_create(&pref), "preference");
    // The first algorithm sets the workspace every later one must fit.
    const uint64_t ws = algos.empty() ? kMaxWorkspace : workspace;
    a->pref_set(pref, kPrefMaxWorkspace, &ws, sizeof ws);
    for (int attr : {kPrefAlignA, kPrefAlignB, kPrefAlignC, kPrefAlignD}) a->pref_set(pref, attr, &align, sizeof align);
    Heuristic h{};
    int found = 0;
    int rc;
    {
      static std::mutex heuristic_mu;  // plans compile on several threads at once
      std::lock_guard<std::mutex> heuristic_lock(heuristic_mu);
      rc = a->heuristic(a->handle, desc, la, lb, lc, lc, pref, 1, &h, &found);
    }
    a->pref_destroy(pref);
    if (rc != 0 || found == 0) throw DeviceError("cuBLASLt: no algorithm for this matmul");
    return algos[align] = h;
  }
};

std::shared_ptr<GemmPlan> plan_gemm(const MatmulShape& s, DType dt, bool tf32, std::string* why) {
  int type = 0, compute = kCompute32F;
  switch (dt) {
    case DType::Float32: type = kR32F; compute = tf32 ? kCompute32FFastTF32 : kCompute32F; break;
    case DType::Float64: type = kR64F; compute = kCompute64F; break;
    case DType::Float16: type = kR16F; break;
    case DType::BFloat16: type = kR16BF; break;
    default: *why = "cuBLASLt has no " + std::string(dtype_name(dt)) + " matmul"; return nullptr;
  }
  if (s.m == 0 || s.n == 0 || s.k == 0 || s.batches() == 0) {
    *why = "an empty product";
    return nullptr;
  }
  const Api* a = api(why);
  if (!a) return nullptr;
  auto p = std::make_shared<GemmPlan>();
  p->a = a;
  p->shape = s;
  p->elem = int64_t(dtype_size(dt));
  p->f64 = dt == DType::Float64;
  // Row-major C (m x n) is column-major C^T (n x m) = op(b)^T-view times
  // op(a)^T-view: cuBLASLt's "A" is our b and its "B" our a.
  check_status(a->desc_create(&p->desc, compute, p->f64 ? kR64F : kR32F), "matmul descriptor");
  const int32_t op_a = s.tb ? 1 : 0, op_b = s.ta ? 1 : 0;
  a->desc_set(p->desc, kDescTransA, &op_a, sizeof op_a);
  a->desc_set(p->desc, kDescTransB, &op_b, sizeof op_b);
  check_status(a->layout_create(&p->la, type, s.tb ? s.k : s.n, s.tb ? s.n : s.k, s.tb ? s.k : s.n), "layout");
  check_status(a->layout_create(&p->lb, type, s.ta ? s.m : s.k, s.ta ? s.k : s.m, s.ta ? s.m : s.k), "layout");
  check_status(a->layout_create(&p->lc, type, s.n, s.m, s.n), "layout");
  const int64_t sa = even_stride(s, s.a_stride, s.m * s.k), sb = even_stride(s, s.b_stride, s.k * s.n);
  p->per_batch = sa < 0 || sb < 0;
  if (!p->per_batch && s.batches() > 1) {
    const int32_t count = int32_t(s.batches());
    const int64_t sc = s.m * s.n;
    for (auto [layout, stride] : {std::pair{p->la, sb}, std::pair{p->lb, sa}, std::pair{p->lc, sc}}) {
      a->layout_set(layout, kLayoutBatchCount, &count, sizeof count);
      a->layout_set(layout, kLayoutBatchStride, &stride, sizeof stride);
    }
  }
  p->workspace = p->algo(256).workspace;
  return p;
}

int64_t gemm_workspace(const GemmPlan& p) { return int64_t(p.workspace) + 256; }

void run_gemm(const GemmPlan& p, const void* a, const void* b, void* c, void* workspace, CUstream stream) {
  const MatmulShape& s = p.shape;
  uint32_t align = 256;
  for (const void* ptr : {a, b, static_cast<const void*>(c)})
    while (reinterpret_cast<uintptr_t>(ptr) % align) align /= 2;
  const Heuristic& h = p.algo(align < 16 ? uint32_t(p.elem) : align);
  void* ws = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(workspace) + 255) / 256 * 256);
  const float one_f = 1, zero_f = 0;
  const double one_d = 1, zero_d = 0;
  const void* alpha = p.f64 ? static_cast<const void*>(&one_d) : &one_f;
  const void* beta = p.f64 ? static_cast<const void*>(&zero_d) : &zero_f;
  const int64_t calls = p.per_batch ? s.batches() : 1;
  for (int64_t i = 0; i < calls; ++i) {
    const char* pa = static_cast<const char*>(a) + (p.per_batch ? s.a_offset(i) * p.elem : 0);
    const char* pb = static_cast<const char*>(b) + (p.per_batch ? s.b_offset(i) * p.elem : 0);
    char* pc = static_cast<char*>(c) + i * s.m * s.n * p.elem;
    check_status(p.a->matmul(p.a->handle, p.desc, alpha, pb, p.la, pa, p.lb, beta, pc, p.lc, pc, p.lc, &h.algo, ws,
                             h.workspace, stream),
                 "matmul");
  }
}

}  // namespace ts::cuda
