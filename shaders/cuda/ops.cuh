// Device helpers of the CUDA kernels that are not elementwise: checked
// indices and atomic accumulation for every storage type.
namespace ts {

// An index as the host checks it: negative values count from the end; one
// out of [0, n) is reported once per run through `err` (the stream's error
// record: the reporting launch's tag, the value, the size and the
// dimension), and -1 is returned so the caller skips the access.
__device__ __forceinline__ long long checked_index(long long v, long long n, long long dim, long long* err,
                                                   long long tag) {
  const long long w = v < 0 ? v + n : v;
  if (w >= 0 && w < n) return w;
  if (atomicCAS(reinterpret_cast<unsigned long long*>(err), 0ull, (unsigned long long)tag) == 0ull) {
    err[1] = v;
    err[2] = n;
    err[3] = dim;
  }
  return -1;
}

// *p = f(*p) atomically for 1- and 2-byte types: a compare-and-swap loop on
// the aligned 32-bit word that holds it.
template <class T, class F>
__device__ __forceinline__ void atomic_apply(T* p, F f) {
  unsigned int* word = reinterpret_cast<unsigned int*>(reinterpret_cast<unsigned long long>(p) & ~3ull);
  const unsigned int shift = (unsigned int)(reinterpret_cast<unsigned long long>(p) & 3ull) * 8u;
  const unsigned int mask = (sizeof(T) == 1 ? 0xffu : 0xffffu) << shift;
  unsigned int old = *word, assumed;
  do {
    assumed = old;
    const T cur = T((assumed & mask) >> shift);
    const T nv = f(cur);
    const unsigned int bits = sizeof(T) == 1 ? (unsigned int)(unsigned char)nv : (unsigned int)(unsigned short)nv;
    old = atomicCAS(word, assumed, (assumed & ~mask) | (bits << shift));
  } while (assumed != old);
}

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int* p, int v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(long long* p, long long v) {
  atomicAdd(reinterpret_cast<unsigned long long*>(p), (unsigned long long)v);  // wraps like the host
}
__device__ __forceinline__ void atomic_add(signed char* p, signed char v) {
  atomic_apply(p, [v](signed char c) { return (signed char)(c + v); });
}
__device__ __forceinline__ void atomic_add(unsigned char* p, unsigned char v) {
  atomic_apply(p, [v](unsigned char c) { return (unsigned char)(c + v); });
}
__device__ __forceinline__ void atomic_add(bool* p, bool v) {
  if (v) atomic_apply(p, [](bool) { return true; });
}
__device__ __forceinline__ void atomic_add_f16(unsigned short* p, float v) {
  atomic_apply(p, [v](unsigned short c) { return f32_to_f16(f16_to_f32(c) + v); });
}
__device__ __forceinline__ void atomic_add_bf16(unsigned short* p, float v) {
  atomic_apply(p, [v](unsigned short c) { return f32_to_bf16(bf16_to_f32(c) + v); });
}

}  // namespace ts

namespace ts {

// f over the whole block (blockDim.x a multiple of 32): every thread gets
// the result. Safe to call repeatedly in one kernel.
template <class T, class F>
__device__ __forceinline__ T block_reduce(T v, F f) {
  __shared__ T part[32];
  for (int off = 16; off > 0; off >>= 1) v = f(v, __shfl_down_sync(0xffffffffu, v, off));
  __syncthreads();  // an earlier call's readers are done with part[]
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
  __syncthreads();
  T r = part[0];
  for (int w = 1; w < int(blockDim.x >> 5); ++w) r = f(r, part[w]);
  return r;
}

// Extrema that propagate NaN, as the host's reductions do.
template <class T> __device__ __forceinline__ T nan_max(T a, T b) { return a != a ? a : b != b ? b : b > a ? b : a; }
template <class T> __device__ __forceinline__ T nan_min(T a, T b) { return a != a ? a : b != b ? b : b < a ? b : a; }

}  // namespace ts
