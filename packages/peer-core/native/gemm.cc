// Blocked SGEMM with a 6x16 AVX2/FMA micro-kernel (the classic Goto/BLIS layout): B is packed once into
// 16-column panels, A into 6-row panels per (row block, depth block), so the micro-kernel streams both from
// contiguous, cache-resident memory and keeps its 12 accumulators in registers. Transposed operands are
// handled by the packing, so the gradient products (A^T dC, dC B^T) cost the same as the forward.
#include "gemm.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace peer {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;
// Depth block: a 6 x 256 A panel (6 KiB) and a 256 x 16 B panel (16 KiB) stay in L1 together.
constexpr int KC = 256;
// Row block: 96 x 256 floats of packed A (96 KiB) stay in L2 while every B panel passes over them.
constexpr int MC = 96;

inline float at(const MatrixView& v, int i, int j) {
  return v.transpose ? v.data[static_cast<size_t>(j) * v.cols + i] : v.data[static_cast<size_t>(i) * v.cols + j];
}

__attribute__((target("avx2,fma"))) void microKernel(int kc, const float* __restrict ap, const float* __restrict bp,
                                                      float* c, int ldc, int mr, int nr, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(bp);
    const __m256 b1 = _mm256_load_ps(bp + 8);
    __m256 a = _mm256_broadcast_ss(ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
    ap += MR;
    bp += NR;
  }
  if (mr == MR && nr == NR) {
    // Full tile: straight to C (the common case; a store through the tile buffer costs ~15% at depth 64).
    const __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int i = 0; i < MR; i++) {
      float* row = c + static_cast<size_t>(i) * ldc;
      __m256 lo = acc[i][0], hi = acc[i][1];
      if (accumulate) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(row));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, lo);
      _mm256_storeu_ps(row + 8, hi);
    }
    return;
  }
  alignas(32) float tile[MR][NR];
  _mm256_store_ps(tile[0], c00);
  _mm256_store_ps(tile[0] + 8, c01);
  _mm256_store_ps(tile[1], c10);
  _mm256_store_ps(tile[1] + 8, c11);
  _mm256_store_ps(tile[2], c20);
  _mm256_store_ps(tile[2] + 8, c21);
  _mm256_store_ps(tile[3], c30);
  _mm256_store_ps(tile[3] + 8, c31);
  _mm256_store_ps(tile[4], c40);
  _mm256_store_ps(tile[4] + 8, c41);
  _mm256_store_ps(tile[5], c50);
  _mm256_store_ps(tile[5] + 8, c51);
  for (int i = 0; i < mr; i++) {
    float* row = c + static_cast<size_t>(i) * ldc;
    if (accumulate) {
      for (int j = 0; j < nr; j++) row[j] += tile[i][j];
    } else {
      std::memcpy(row, tile[i], sizeof(float) * nr);
    }
  }
}

/**
 * Few rows of C (single-token serving): packing B would cost more than the product, so each row of C is
 * accumulated from the rows of B (or, for a transposed B, as dot products with them), read in place.
 */
__attribute__((target("avx2,fma"))) void gemmFewRows(int m, int n, int k, const MatrixView& a, const MatrixView& b,
                                                     float* c, bool accumulate) {
  for (int i = 0; i < m; i++) {
    float* row = c + static_cast<size_t>(i) * n;
    if (!accumulate) std::memset(row, 0, sizeof(float) * n);
    if (!b.transpose) {
      for (int p = 0; p < k; p++) {
        const __m256 av = _mm256_set1_ps(at(a, i, p));
        const float* br = b.data + static_cast<size_t>(p) * b.cols;
        int j = 0;
        for (; j + 8 <= n; j += 8)
          _mm256_storeu_ps(row + j, _mm256_fmadd_ps(av, _mm256_loadu_ps(br + j), _mm256_loadu_ps(row + j)));
        const float as = at(a, i, p);
        for (; j < n; j++) row[j] += as * br[j];
      }
      continue;
    }
    for (int j = 0; j < n; j++) {
      const float* br = b.data + static_cast<size_t>(j) * b.cols; // row j of the stored [n, k] array
      float s = 0.f;
      for (int p = 0; p < k; p++) s += at(a, i, p) * br[p];
      row[j] += s;
    }
  }
}

/**
 * Grow-only 32-byte aligned scratch, one per thread and use: a fresh 256 KiB allocation per call is an
 * mmap + page faults + munmap, which cost more than a whole single-token product.
 */
class Scratch {
 public:
  float* get(size_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      capacity_ = floats;
      data_ = static_cast<float*>(std::aligned_alloc(32, (floats * 4 + 31) / 32 * 32));
    }
    return data_;
  }
  ~Scratch() { std::free(data_); }

 private:
  float* data_ = nullptr;
  size_t capacity_ = 0;
};

thread_local Scratch packedA;
thread_local Scratch packedB;

/** Packs op(B) into ceil(n/16) panels of [k][16] floats, zero-padded past column n. */
void packB(int n, int k, const MatrixView& b, float* bp) {
  const int panels = (n + NR - 1) / NR;
  for (int jp = 0; jp < panels; jp++) {
    float* dst = bp + static_cast<size_t>(jp) * k * NR;
    const int j0 = jp * NR;
    const int nr = n - j0 < NR ? n - j0 : NR;
    for (int p = 0; p < k; p++) {
      float* row = dst + static_cast<size_t>(p) * NR;
      if (!b.transpose && nr == NR) {
        std::memcpy(row, b.data + static_cast<size_t>(p) * b.cols + j0, sizeof(float) * NR);
        continue;
      }
      for (int j = 0; j < NR; j++) row[j] = j < nr ? at(b, p, j0 + j) : 0.f;
    }
  }
}

/** Computes rows [m0, m1) of C with its own A packing buffer. */
void gemmRows(int m0, int m1, int n, int k, const MatrixView& a, const float* bp, float* c, bool accumulate) {
  float* ap = packedA.get(static_cast<size_t>((MC + MR - 1) / MR) * MR * KC);
  const int panels = (n + NR - 1) / NR;
  for (int k0 = 0; k0 < k; k0 += KC) {
    const int kc = k - k0 < KC ? k - k0 : KC;
    const bool acc = accumulate || k0 > 0;
    for (int ib = m0; ib < m1; ib += MC) {
      const int ie = ib + MC < m1 ? ib + MC : m1;
      for (int i = ib; i < ie; i += MR) {
        float* dst = ap + static_cast<size_t>((i - ib) / MR) * kc * MR;
        const int mr = ie - i < MR ? ie - i : MR;
        for (int p = 0; p < kc; p++)
          for (int r = 0; r < MR; r++) dst[p * MR + r] = r < mr ? at(a, i + r, k0 + p) : 0.f;
      }
      for (int jp = 0; jp < panels; jp++) {
        const float* panel = bp + (static_cast<size_t>(jp) * k + k0) * NR;
        const int j = jp * NR;
        const int nr = n - j < NR ? n - j : NR;
        for (int i = ib; i < ie; i += MR) {
          const int mr = ie - i < MR ? ie - i : MR;
          microKernel(kc, ap + static_cast<size_t>((i - ib) / MR) * kc * MR, panel,
                      c + static_cast<size_t>(i) * n + j, n, mr, nr, acc);
        }
      }
    }
  }
}

} // namespace

bool hasAvx2Fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void gemm(int m, int n, int k, const MatrixView& a, const MatrixView& b, float* c, bool accumulate, int threads) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) std::memset(c, 0, sizeof(float) * static_cast<size_t>(m) * n);
    return;
  }
  if (m < MR) {
    gemmFewRows(m, n, k, a, b, c, accumulate);
    return;
  }
  float* bp = packedB.get(static_cast<size_t>((n + NR - 1) / NR) * NR * k);
  packB(n, k, b, bp);
  // A thread start costs ~20-50 us: split only products of at least ~4 MFLOP.
  const bool split = threads >= 2 && m >= 2 * MR && static_cast<double>(m) * n * k >= (1 << 21);
  if (!split) {
    gemmRows(0, m, n, k, a, bp, c, accumulate);
    return;
  }
  const int half = (m / 2 + MR - 1) / MR * MR;
  std::thread other([&] { gemmRows(half, m, n, k, a, bp, c, accumulate); });
  gemmRows(0, half, n, k, a, bp, c, accumulate);
  other.join();
}

} // namespace peer
