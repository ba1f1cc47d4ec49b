// CUDA kernels of sort, argsort and top_k along an axis: a block per line
// sorts (key, index) pairs with a bitonic network in the step's workspace.
// Ties are ordered by index, so the order is the host's stable one; NaN
// sorts last ascending and first descending, as on the host.
#include "backends/cuda/op_kernels.h"

namespace ts::cuda {
namespace {

enum class Output { Values, Indices, Both };

template <Output What>
OpSource order(const KernelDesc& k) {
  const TensorType& x = k.inputs[0].type;
  const AxisView v = axis_view(x.dims, axis_attr(k, int(x.dims.size())));
  const int64_t n = v.n, inner = v.inner, lines = v.outer * v.inner;
  const bool top = What == Output::Both;
  const bool descending = top || (k.node->attrs.count("descending") && attr_int(*k.node, "descending"));
  const int64_t keep = top ? attr_int(*k.node, "k") : n;
  int64_t p = 1;
  while (p < n) p *= 2;
  OpSource src;
  src.blocks = n ? lines : 0;
  src.threads = 32;
  while (src.threads < kThreads && src.threads < p / 2) src.threads *= 2;
  src.workspace_bytes = lines * p * 16;
  const DType acc = accumulator(x.dtype);
  const std::string N = std::to_string(n) + "LL";
  std::ostringstream s;
  s << "  typedef " << register_type(acc) << " A;\n";
  s << "  const long long q = blockIdx.x, base = " << line_start(v, "q") << ";\n";
  s << "  A* key = reinterpret_cast<A*>(ws) + q * " << p << "LL;\n";
  s << "  long long* idx = reinterpret_cast<long long*>(ws + " << lines * p * 8 << "LL) + q * " << p << "LL;\n";
  s << "  for (long long j = threadIdx.x; j < " << p << "LL; j += blockDim.x) {\n";
  s << "    idx[j] = j;\n    key[j] = j < " << N << " ? " << load_expr(x.dtype, "in0[base + j * " + std::to_string(inner) + "LL]", "A")
    << " : A(0);\n  }\n  __syncthreads();\n";
  // a before b: real elements before padding; NaN last (first descending); ties by index.
  s << "  const auto before = [](A ka, long long ia, A kb, long long ib) {\n";
  s << "    if (ia >= " << N << " || ib >= " << N << ") return ia < ib;\n";
  s << "    const bool na = ka != ka, nb = kb != kb;\n";
  s << "    if (na || nb) return na && nb ? ia < ib : " << (descending ? "na" : "nb") << ";\n";
  s << "    return ka == kb ? ia < ib : ka " << (descending ? ">" : "<") << " kb;\n  };\n";
  s << "  for (long long size = 2; size <= " << p << "LL; size <<= 1)\n";
  s << "    for (long long half = size >> 1; half > 0; half >>= 1) {\n";
  s << "      for (long long i = threadIdx.x; i < " << p << "LL; i += blockDim.x) {\n";
  s << "        const long long l = i ^ half;\n        if (l <= i) continue;\n";
  s << "        const bool up = (i & size) == 0;\n";
  s << "        if (up ? before(key[l], idx[l], key[i], idx[i]) : before(key[i], idx[i], key[l], idx[l])) {\n";
  s << "          const A tk = key[i]; key[i] = key[l]; key[l] = tk;\n";
  s << "          const long long ti = idx[i]; idx[i] = idx[l]; idx[l] = ti;\n        }\n      }\n";
  s << "      __syncthreads();\n    }\n";
  s << "  for (long long j = threadIdx.x; j < " << keep << "LL; j += blockDim.x) {\n";
  AxisView kept = v;
  kept.n = keep;
  s << "    const long long at = " << line_start(kept, "q") << " + j * " << inner << "LL;\n";
  if (What == Output::Indices) s << "    out0[at] = idx[j];\n";
  else s << "    out0[at] = in0[base + idx[j] * " << inner << "LL];\n";
  if (What == Output::Both) s << "    out1[at] = idx[j];\n";
  s << "  }\n";
  src.body = s.str();
  return src;
}

TS_CUDA_KERNEL("sort", order<Output::Values>);
TS_CUDA_KERNEL("argsort", order<Output::Indices>);
TS_CUDA_KERNEL("top_k", order<Output::Both>);

}  // namespace
}  // namespace ts::cuda
