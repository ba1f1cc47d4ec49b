// Counter-based random numbers, written once for every backend (portable
// like ops/scalar_math.h, after which it comes: no includes, intrinsics
// through the shim). Philox 4x32-10 (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3") maps (element index, run index) under a key
// (seed, op) to 128 random bits, so any element can be drawn alone, in any
// order, on any device: the CPU and CUDA kernels compute the same bits, and
// the same floats where every multiply-add is an explicit fma (they are
// compiled without contraction).
namespace ts {
namespace rnd {

TS_FN void mulhilo(unsigned int a, unsigned int b, unsigned int& hi, unsigned int& lo) {
  const unsigned long long p = (unsigned long long)a * b;
  hi = (unsigned int)(p >> 32);
  lo = (unsigned int)p;
}

// The first 32 of the 128 bits for counter (i, run) and key (k0, k1).
TS_FN unsigned int philox(unsigned long long i, unsigned long long run, unsigned int k0, unsigned int k1) {
  unsigned int c0 = (unsigned int)i, c1 = (unsigned int)(i >> 32), c2 = (unsigned int)run, c3 = (unsigned int)(run >> 32);
  for (int round = 0; round < 10; ++round) {
    unsigned int hi0, lo0, hi1, lo1;
    mulhilo(0xD2511F53u, c0, hi0, lo0);
    mulhilo(0xCD9E8D57u, c2, hi1, lo1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c0;
}

// Uniform on [low, high): the top 24 bits as a fraction, scaled in double.
TS_FN double uniform(unsigned int bits, double low, double high) {
  return sm::fma(high - low, double(bits >> 8) * (1.0 / 16777216.0), low);
}

// The inverse error function on (-1, 1) in float32 (M. Giles, "Approximating
// the erfinv function", 2010: two polynomials in the log of 1 - x^2).
TS_FN float erfinv(float x) {
  float w = -math::log_f32((1.0f - x) * (1.0f + x)), p;
  if (w < 5.0f) {
    w = w - 2.5f;
    p = 2.81022636e-08f;
    p = sm::fma(p, w, 3.43273939e-07f);
    p = sm::fma(p, w, -3.5233877e-06f);
    p = sm::fma(p, w, -4.39150654e-06f);
    p = sm::fma(p, w, 0.00021858087f);
    p = sm::fma(p, w, -0.00125372503f);
    p = sm::fma(p, w, -0.00417768164f);
    p = sm::fma(p, w, 0.246640727f);
    p = sm::fma(p, w, 1.50140941f);
  } else {
    w = sm::sqrt(w) - 3.0f;
    p = -0.000200214257f;
    p = sm::fma(p, w, 0.000100950558f);
    p = sm::fma(p, w, 0.00134934322f);
    p = sm::fma(p, w, -0.00367342844f);
    p = sm::fma(p, w, 0.00573950773f);
    p = sm::fma(p, w, -0.0076224613f);
    p = sm::fma(p, w, 0.00943887047f);
    p = sm::fma(p, w, 1.00167406f);
    p = sm::fma(p, w, 2.83297682f);
  }
  return p * x;
}

// Normal(mean, stddev) by inversion: 23 bits make an odd multiple of 2^-23
// in (-1, 1) (exact in float32), mapped through sqrt(2) erfinv.
TS_FN double normal(unsigned int bits, double mean, double stddev) {
  const float x = float(int((bits >> 9) << 1) + 1 - 8388608) * (1.0f / 8388608.0f);
  const float z = 1.41421356237f * erfinv(x);
  return sm::fma(stddev, double(z), mean);
}

// The key of one random op: its seed, and its node so that two ops with
// one seed draw different numbers.
TS_FN unsigned int key0(long long seed) { return (unsigned int)(unsigned long long)seed; }
TS_FN unsigned int key1(long long seed, int node) {
  return (unsigned int)((unsigned long long)seed >> 32) ^ ((unsigned int)node * 0x9E3779B9u);
}

}  // namespace rnd
}  // namespace ts
