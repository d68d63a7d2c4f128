// Rows of a dense model are a few hundred floats: each pass keeps a row in L1, AVX2 over 8 columns at a
// time with a scalar tail. Row sums use 8 lanes of partial sums (the order differs from tfjs's reduction in
// the last bits only).
#include "layer-norm.h"

#include <immintrin.h>

#include <cmath>

namespace peer {
namespace {

__attribute__((target("avx2,fma"))) inline float sum8(__m256 v) {
  const __m128 pair = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 quad = _mm_add_ps(pair, _mm_movehl_ps(pair, pair));
  return _mm_cvtss_f32(_mm_add_ss(quad, _mm_movehdup_ps(quad)));
}

} // namespace

__attribute__((target("avx2,fma"))) void layerNormForward(const float* x, const float* gamma, const float* beta,
                                                           float* out, float* xhat, float* rstd, int64_t rows,
                                                           int64_t cols, float eps) {
  if (cols == 0) return; // empty rows: nothing to write (and no x[0] to shift by)
  const int64_t blocks = cols - cols % 8;
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * cols;
    // Sums are taken of x - x[0] (the row's "shift"): a row far from zero (mean 1e3, spread 1) would lose
    // its deviations to float32 rounding of a plain sum, and of E[x^2] - mean^2 all the more.
    const float shift = xr[0];
    const __m256 shift8 = _mm256_set1_ps(shift);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t j = 0; j < blocks; j += 8) acc = _mm256_add_ps(acc, _mm256_sub_ps(_mm256_loadu_ps(xr + j), shift8));
    float sum = sum8(acc);
    for (int64_t j = blocks; j < cols; j++) sum += xr[j] - shift;
    const float shiftedMean = sum / static_cast<float>(cols);
    const __m256 mean8 = _mm256_set1_ps(shiftedMean);
    acc = _mm256_setzero_ps();
    for (int64_t j = 0; j < blocks; j += 8) {
      const __m256 dev = _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), shift8), mean8);
      acc = _mm256_fmadd_ps(dev, dev, acc);
    }
    float squares = sum8(acc);
    for (int64_t j = blocks; j < cols; j++) {
      const float dev = (xr[j] - shift) - shiftedMean;
      squares += dev * dev;
    }
    const float scale = 1.f / std::sqrt(squares / static_cast<float>(cols) + eps);
    rstd[r] = scale;
    const __m256 scale8 = _mm256_set1_ps(scale);
    float* hr = xhat + r * cols;
    float* outr = out + r * cols;
    for (int64_t j = 0; j < blocks; j += 8) {
      const __m256 h = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), shift8), mean8), scale8);
      _mm256_storeu_ps(hr + j, h);
      _mm256_storeu_ps(outr + j, _mm256_fmadd_ps(h, _mm256_loadu_ps(gamma + j), _mm256_loadu_ps(beta + j)));
    }
    for (int64_t j = blocks; j < cols; j++) {
      hr[j] = ((xr[j] - shift) - shiftedMean) * scale;
      outr[j] = hr[j] * gamma[j] + beta[j];
    }
  }
}

__attribute__((target("avx2,fma"))) void layerNormBackward(const float* dy, const float* xhat, const float* rstd,
                                                            const float* gamma, float* dx, float* dgamma,
                                                            float* dbeta, int64_t rows, int64_t cols) {
  const int64_t blocks = cols - cols % 8;
  for (int64_t j = 0; j < cols; j++) dgamma[j] = dbeta[j] = 0.f;
  const float inv = 1.f / static_cast<float>(cols);
  for (int64_t r = 0; r < rows; r++) {
    const float* dyr = dy + r * cols;
    const float* hr = xhat + r * cols;
    // First pass: the parameter gradients and the row's sums of g and g xhat.
    __m256 accG = _mm256_setzero_ps(), accGH = _mm256_setzero_ps();
    for (int64_t j = 0; j < blocks; j += 8) {
      const __m256 d = _mm256_loadu_ps(dyr + j), h = _mm256_loadu_ps(hr + j);
      _mm256_storeu_ps(dgamma + j, _mm256_fmadd_ps(d, h, _mm256_loadu_ps(dgamma + j)));
      _mm256_storeu_ps(dbeta + j, _mm256_add_ps(d, _mm256_loadu_ps(dbeta + j)));
      const __m256 g = _mm256_mul_ps(d, _mm256_loadu_ps(gamma + j));
      accG = _mm256_add_ps(accG, g);
      accGH = _mm256_fmadd_ps(g, h, accGH);
    }
    float sumG = sum8(accG), sumGH = sum8(accGH);
    for (int64_t j = blocks; j < cols; j++) {
      dgamma[j] += dyr[j] * hr[j];
      dbeta[j] += dyr[j];
      const float g = dyr[j] * gamma[j];
      sumG += g;
      sumGH += g * hr[j];
    }
    // Second pass: dx = rstd (g - mean(g) - xhat mean(g xhat)).
    const float meanG = sumG * inv, meanGH = sumGH * inv, scale = rstd[r];
    const __m256 meanG8 = _mm256_set1_ps(meanG), meanGH8 = _mm256_set1_ps(meanGH), scale8 = _mm256_set1_ps(scale);
    float* dxr = dx + r * cols;
    for (int64_t j = 0; j < blocks; j += 8) {
      const __m256 g = _mm256_mul_ps(_mm256_loadu_ps(dyr + j), _mm256_loadu_ps(gamma + j));
      const __m256 centred = _mm256_fnmadd_ps(_mm256_loadu_ps(hr + j), meanGH8, _mm256_sub_ps(g, meanG8));
      _mm256_storeu_ps(dxr + j, _mm256_mul_ps(scale8, centred));
    }
    for (int64_t j = blocks; j < cols; j++) dxr[j] = scale * (dyr[j] * gamma[j] - meanG - hr[j] * meanGH);
  }
}

} // namespace peer
