// Both kernels are memory-bound streams: AVX2 over 8 floats at a time, a scalar tail with the same formulas.
// tanh comes from a vectorised expf (Cephes' polynomial, ~1 ulp): libm's scalar tanh would cost ~20 ns an
// element, as much as the wasm backend's whole GELU.
#include "elementwise.h"

#include <immintrin.h>

#include <cmath>

namespace peer {
namespace {

constexpr float GELU_C = 0.7978845608028654f; // sqrt(2 / pi)
constexpr float GELU_A = 0.044715f;

/** e^x for x in [-88.37, 88.37] (clamped), Cephes expf: 2^n e^r with |r| <= ln2 / 2, degree-6 polynomial. */
__attribute__((target("avx2,fma"))) inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.3762626647949f)), _mm256_set1_ps(88.3762626647949f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // r = x - n ln2 in two parts, so r keeps its low bits.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
  // 2^n through the exponent bits (n is in [-127, 128] after the clamp).
  const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

/** tanh(y) = 1 - 2 / (1 + e^{2y}): saturates to ±1 without overflow trouble (e^{2y} = inf gives 1). */
__attribute__((target("avx2,fma"))) inline __m256 tanh8(__m256 y) {
  const __m256 e = exp8(_mm256_add_ps(y, y));
  const __m256 one = _mm256_set1_ps(1.f);
  return _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.f), _mm256_add_ps(one, e)));
}

inline float geluInner(float x) { return GELU_C * (x + GELU_A * x * x * x); }

inline float geluGrad(float x, float t) {
  return 0.5f * (1.f + t) + 0.5f * x * (1.f - t * t) * GELU_C * (1.f + 3.f * GELU_A * x * x);
}

} // namespace

__attribute__((target("avx2,fma"))) void adamUpdate(const AdamStep& s, const float* params, const float* grads,
                                                     float* m, float* v, float* out, int64_t n) {
  const __m256 b1 = _mm256_set1_ps(s.beta1), b2 = _mm256_set1_ps(s.beta2);
  const __m256 g1 = _mm256_set1_ps(1.f - s.beta1), g2 = _mm256_set1_ps(1.f - s.beta2);
  const __m256 c2 = _mm256_set1_ps(s.correction2), eps = _mm256_set1_ps(s.epsilon);
  const __m256 rate = _mm256_set1_ps(s.learningRate * s.correction1);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(grads + i);
    const __m256 mi = _mm256_fmadd_ps(b1, _mm256_loadu_ps(m + i), _mm256_mul_ps(g1, g));
    const __m256 vi = _mm256_fmadd_ps(b2, _mm256_loadu_ps(v + i), _mm256_mul_ps(g2, _mm256_mul_ps(g, g)));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    const __m256 denom = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vi, c2)), eps);
    _mm256_storeu_ps(out + i, _mm256_sub_ps(_mm256_loadu_ps(params + i), _mm256_div_ps(_mm256_mul_ps(rate, mi), denom)));
  }
  const float rate1 = s.learningRate * s.correction1;
  for (; i < n; i++) {
    const float g = grads[i];
    const float mi = s.beta1 * m[i] + (1.f - s.beta1) * g;
    const float vi = s.beta2 * v[i] + (1.f - s.beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    out[i] = params[i] - (rate1 * mi) / (std::sqrt(vi * s.correction2) + s.epsilon);
  }
}

__attribute__((target("avx2,fma"))) void geluForward(const float* x, float* out, float* t, int64_t n) {
  const __m256 c = _mm256_set1_ps(GELU_C), a = _mm256_set1_ps(GELU_A), half = _mm256_set1_ps(0.5f);
  const __m256 one = _mm256_set1_ps(1.f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xi = _mm256_loadu_ps(x + i);
    const __m256 cube = _mm256_mul_ps(_mm256_mul_ps(xi, xi), xi);
    const __m256 ti = tanh8(_mm256_mul_ps(c, _mm256_fmadd_ps(a, cube, xi)));
    _mm256_storeu_ps(t + i, ti);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(half, xi), _mm256_add_ps(one, ti)));
  }
  for (; i < n; i++) {
    t[i] = std::tanh(geluInner(x[i]));
    out[i] = 0.5f * x[i] * (1.f + t[i]);
  }
}

__attribute__((target("avx2,fma"))) void geluBackward(const float* x, const float* t, const float* dy, float* dx,
                                                       int64_t n) {
  const __m256 c = _mm256_set1_ps(GELU_C), a3 = _mm256_set1_ps(3.f * GELU_A), half = _mm256_set1_ps(0.5f);
  const __m256 one = _mm256_set1_ps(1.f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xi = _mm256_loadu_ps(x + i), ti = _mm256_loadu_ps(t + i);
    // 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)
    const __m256 slope = _mm256_mul_ps(c, _mm256_fmadd_ps(a3, _mm256_mul_ps(xi, xi), one));
    const __m256 sech2 = _mm256_fnmadd_ps(ti, ti, one);
    const __m256 grad = _mm256_mul_ps(half, _mm256_fmadd_ps(_mm256_mul_ps(xi, sech2), slope, _mm256_add_ps(one, ti)));
    _mm256_storeu_ps(dx + i, _mm256_mul_ps(grad, _mm256_loadu_ps(dy + i)));
  }
  for (; i < n; i++) dx[i] = geluGrad(x[i], t[i]) * dy[i];
}

} // namespace peer
