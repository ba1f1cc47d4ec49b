#include "backends/cpu/matmul.h"

// scipy-openblas32 prefixes its symbols with scipy_ so it never clashes with
// another BLAS loaded in the same process.
#include <cblas.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "backends/cpu/broadcast.h"
#include "ir/scalar_types.h"
#include "ops/scalar_shim_host.h"
#include "runtime/thread_pool.h"

namespace ts::cpu {
namespace {

struct Gemm {
  int64_t m, n, k;
  bool ta, tb;
  // Leading dimensions of the whole matrices a block is part of (0: the block's own).
  int64_t lda_rows = 0;  // rows of a stored transposed A
  int64_t full_n = 0;    // columns of C (and of B untransposed)
};

template <class T>
void gemm(const Gemm& g, const T* a, const T* b, T* c) {
  const int64_t full_n = g.full_n ? g.full_n : g.n;
  const blasint lda = blasint(std::max<int64_t>(1, g.ta ? g.lda_rows : g.k));
  const blasint ldb = blasint(std::max<int64_t>(1, g.tb ? g.k : full_n));
  const blasint ldc = blasint(std::max<int64_t>(1, full_n));
  const auto ta = g.ta ? CblasTrans : CblasNoTrans, tb = g.tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    // A one-row or one-column product is a matrix-vector product: gemm
    // would pack the whole matrix on every call (a generated token's LSTM
    // step measured 6x slower through sgemm than through sgemv).
    if (g.m == 1 || g.n == 1) {
      const bool row = g.m == 1;  // c (1, n) = a (1, k) @ B, i.e. c = op(B)^T a
      const auto order = (row ? !g.tb : g.ta) ? CblasTrans : CblasNoTrans;
      const blasint rows = blasint(row ? (g.tb ? g.n : g.k) : (g.ta ? g.k : g.m));
      const blasint cols = blasint(row ? (g.tb ? g.k : g.n) : (g.ta ? g.m : g.k));
      const T* mat = row ? b : a;
      const blasint ld = row ? ldb : lda;
      const T* vec = row ? a : b;
      const blasint inc_v = row ? (g.ta ? lda : 1) : (g.tb ? 1 : ldb), inc_c = row ? 1 : ldc;
      if constexpr (std::is_same_v<T, float>)
        scipy_cblas_sgemv(CblasRowMajor, order, rows, cols, 1.0f, mat, ld, vec, inc_v, 0.0f, c, inc_c);
      else
        scipy_cblas_dgemv(CblasRowMajor, order, rows, cols, 1.0, mat, ld, vec, inc_v, 0.0, c, inc_c);
      return;
    }
  }
  if constexpr (std::is_same_v<T, float>) {
    scipy_cblas_sgemm(CblasRowMajor, ta, tb, blasint(g.m), blasint(g.n), blasint(g.k), 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
  } else if constexpr (std::is_same_v<T, double>) {
    scipy_cblas_dgemm(CblasRowMajor, ta, tb, blasint(g.m), blasint(g.n), blasint(g.k), 1.0, a, lda, b, ldb, 0.0, c, ldc);
  } else {  // integers: wrap-around arithmetic, i-k-j order for locality
    for (int64_t i = 0; i < g.m; ++i) std::memset(c + i * ldc, 0, sizeof(T) * g.n);
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t p = 0; p < g.k; ++p) {
        T av = g.ta ? a[p * lda + i] : a[i * lda + p];
        for (int64_t j = 0; j < g.n; ++j) {
          T bv = g.tb ? b[j * ldb + p] : b[p * ldb + j];
          c[i * ldc + j] = math::wrap_add(c[i * ldc + j], math::wrap_mul(av, bv));
        }
      }
  }
}

void single_threaded_blas() {
  static const bool once = [] {
    scipy_openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
}

}  // namespace

void matmul(const NDArray& a_in, const NDArray& b_in, bool ta, bool tb, NDArray& out, const PanelDone& done) {
  // A stack of matrices times one matrix is one taller product: (batch.., M, K)
  // @ (K, N) as (batch.. * M, K) @ (K, N), so B is packed once and the
  // panels are larger (a transformer's linear layers on (batch, tokens, features)).
  if (b_in.rank() == 2 && a_in.rank() > 2 && !ta && out.rank() == a_in.rank()) {
    const int64_t rows = num_elements(Dims(a_in.shape().begin(), a_in.shape().end() - 1));
    NDArray flat = out.reshaped({rows, out.shape().back()});
    return matmul(a_in.reshaped({rows, a_in.shape().back()}), b_in, false, tb, flat, done);
  }
  // Half-precision inputs compute in float32 through sgemm.
  const bool narrow = out.dtype() == DType::Float16 || out.dtype() == DType::BFloat16;
  NDArray a = narrow ? a_in.astype(DType::Float32) : a_in, b = narrow ? b_in.astype(DType::Float32) : b_in;
  NDArray c = narrow ? NDArray(out.shape(), DType::Float32) : out;
  const int ra = a.rank(), rc = c.rank();
  Gemm g{c.shape()[rc - 2], c.shape()[rc - 1], ta ? a.shape()[ra - 2] : a.shape()[ra - 1], ta, tb};
  Dims batch(c.shape().begin(), c.shape().end() - 2);
  Dims abatch(a.shape().begin(), a.shape().end() - 2), bbatch(b.shape().begin(), b.shape().end() - 2);
  const int64_t count = num_elements(batch);
  if (g.m * g.n == 0 || count == 0) return;
  // BLAS takes 32-bit sizes (scipy-openblas32).
  for (int64_t d : {g.m, g.n, g.k})
    if (d > int64_t(std::numeric_limits<blasint>::max()))
      throw ShapeError("matmul: a matrix dimension of " + std::to_string(d) + " exceeds what BLAS supports (" +
                       std::to_string(std::numeric_limits<blasint>::max()) + ")");
  if (g.k == 0) {
    std::memset(out.data(), 0, out.nbytes());
    if (done) done(0, out.size());
    return;
  }
  Broadcast bc = make_broadcast(batch, {abatch, bbatch});
  // Batch offsets of a and b for every output batch element.
  std::vector<std::array<int64_t, 2>> offsets(count);
  for_each_row<2>(bc, [&](int64_t o, std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
    for (int64_t i = 0; i < n; ++i) offsets[o + i] = {off[0] + i * st[0], off[1] + i * st[1]};
  });
  // Row panels spread over our pool, each a single-threaded gemm followed by
  // its epilogue while the panel is in cache. (OpenBLAS's own threads would
  // keep spinning after each call and slow the kernels that follow.)
  single_threaded_blas();
  const int64_t threads = num_threads();
  // Panels of about 2^18 outputs, and at least one per thread where the
  // batch alone does not give every thread work.
  int64_t rows = std::max<int64_t>(16, (int64_t(1) << 18) / std::max<int64_t>(g.n, 1));
  if (count < threads) {  // as many panels per thread, so none waits on another
    int64_t panels = (g.m + rows - 1) / rows;
    panels = (panels * count + threads - 1) / threads * threads / count;
    rows = std::max<int64_t>(16, (g.m + panels - 1) / panels);
  }
  const int64_t row_panels = (g.m + rows - 1) / rows;
  // Too few row panels to keep every thread busy (a short, wide product, or
  // a tall reduction like a weight gradient): split the columns too, in
  // blocks of at least 64.
  const int64_t col_panels = count * row_panels >= threads
                                 ? 1
                                 : std::max<int64_t>(1, std::min((threads + count * row_panels - 1) / (count * row_panels),
                                                                 g.n / 64));
  const int64_t cols = (g.n + col_panels - 1) / col_panels;
  const int64_t per_batch = row_panels * col_panels;
  dispatch_all(c.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool> && !std::is_same_v<T, half> && !std::is_same_v<T, bfloat16>) {
      const T* pa = a.data_as<T>();
      const T* pb = b.data_as<T>();
      T* pc = c.data_as<T>();
      const int64_t sa = g.m * g.k, sb = g.k * g.n, sc = g.m * g.n;
      parallel_for(count * per_batch, 1, [&](int64_t jb, int64_t je) {
        for (int64_t j = jb; j < je; ++j) {
          const int64_t batch = j / per_batch, r0 = (j % per_batch / col_panels) * rows, c0 = j % col_panels * cols;
          Gemm panel = g;
          panel.m = std::min(rows, g.m - r0);
          panel.n = std::min(cols, g.n - c0);
          panel.lda_rows = g.m;
          panel.full_n = g.n;
          const T* ap = pa + offsets[batch][0] * sa + (g.ta ? r0 : r0 * g.k);
          const T* bp = pb + offsets[batch][1] * sb + (g.tb ? c0 * g.k : c0);
          gemm(panel, ap, bp, pc + batch * sc + r0 * g.n + c0);
          if (done && col_panels == 1) done(batch * sc + r0 * g.n, batch * sc + (r0 + panel.m) * g.n);
        }
      });
      // Split columns: the epilogue runs once whole rows are done.
      if (done && col_panels > 1)
        parallel_for(count * g.m, std::max<int64_t>(1, 4096 / g.n),
                     [&](int64_t b0, int64_t e0) { done(b0 * g.n, e0 * g.n); });
    }
  });
  if (narrow) {
    NDArray converted = c.astype(out.dtype());
    std::memcpy(out.data(), converted.data(), out.nbytes());
  }
}

void matmul_op(const detail::Node& node, const NDArray& a_in, const NDArray& b_in, NDArray& out, const PanelDone& done) {
  auto flag = [&](const char* key) {
    auto it = node.attrs.find(key);
    return it != node.attrs.end() && std::get<int64_t>(it->second) != 0;
  };
  const DType dt = out.dtype();
  NDArray a = a_in.dtype() == dt ? a_in : a_in.astype(dt);
  NDArray b = b_in.dtype() == dt ? b_in : b_in.astype(dt);
  const bool ta = flag("transpose_a") && a.rank() > 1, tb = flag("transpose_b") && b.rank() > 1;
  // Vectors become a one-row / one-column matrix.
  if (a.rank() == 1) a = a.reshaped({1, a.shape()[0]});
  if (b.rank() == 1) b = b.reshaped({b.shape()[0], 1});
  Dims full(out.shape());
  if (a_in.rank() == 1) full.insert(full.end() - (b_in.rank() == 1 ? 0 : 1), 1);
  if (b_in.rank() == 1) full.push_back(1);
  NDArray o = out.reshaped(full);
  matmul(a, b, ta, tb, o, done);
}

}  // namespace ts::cpu
