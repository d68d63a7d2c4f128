// The expert work is a random-row gather (two 1 KiB rows per (token, slot) at d = 256), so the kernels
// prefetch the rows a few slots ahead and skip every row whose coefficient is zero (ReLU zeroes about half).
// Activations are evaluated in double and rounded once, like src/kernels/activation.ts and the wasm kernels.
#include "experts.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

namespace peer {
namespace {

constexpr double GELU_C = 0.7978845608028654; // sqrt(2 / pi)
constexpr double GELU_A = 0.044715;
/** Slots ahead whose rows are prefetched. */
constexpr int AHEAD = 6;
/** Below this many (token, slot) pairs a second thread costs more than it saves. */
constexpr int64_t SPLIT_MIN_SLOTS = 2048;

inline float activate(float a, int code) {
  if (code == 0) return a > 0 ? a : 0.f;
  const double x = a;
  const double t = std::tanh(GELU_C * (x + GELU_A * x * x * x));
  return static_cast<float>(0.5 * x * (1.0 + t));
}

/** act(a), with act'(a) in *grad. ReLU'(0) is 0. */
inline float activateWithGrad(float a, int code, float* grad) {
  if (code == 0) {
    *grad = a > 0 ? 1.f : 0.f;
    return a > 0 ? a : 0.f;
  }
  const double x = a;
  const double t = std::tanh(GELU_C * (x + GELU_A * x * x * x));
  *grad = static_cast<float>(0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * x * x));
  return static_cast<float>(0.5 * x * (1.0 + t));
}

__attribute__((target("avx2,fma"))) inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 h = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}

__attribute__((target("avx2,fma"))) float dot(const float* a, const float* b, int n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

/** y += c * x. */
__attribute__((target("avx2,fma"))) void axpy(float* y, float c, const float* x, int n) {
  const __m256 cv = _mm256_set1_ps(c);
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(cv, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] += c * x[i];
}

/** Prefetches one table row (every 64-byte line of it). */
inline void prefetchRow(const float* row, int n) {
  const char* p = reinterpret_cast<const char*>(row);
  const int bytes = n * 4;
  for (int o = 0; o < bytes; o += 64) _mm_prefetch(p + o, _MM_HINT_T0);
}

/**
 * The (token, slot) pairs of tokens [from, to) as flat indices sorted by expert id (LSD radix sort, 8 bits a
 * pass, as many passes as ids have bits). Pairs of one expert then run back to back, so its two table rows
 * are read from memory once and reused from L1 while the tokens' rows (x, out: 512 KiB each at 512 tokens)
 * stay in L2: at 128^2 experts a 512-token batch uses each expert ~4 times, and the gather was ~80% of the
 * machine's random-row bandwidth. Stable, so equal ids keep token order (deterministic sums).
 */
void pairsByExpert(const int32_t* ids, int slots, int from, int to, int64_t numExperts, std::vector<uint32_t>& order,
                   std::vector<uint32_t>& spare) {
  const size_t count = static_cast<size_t>(to - from) * slots;
  const uint32_t first = static_cast<uint32_t>(from) * slots;
  order.resize(count);
  spare.resize(count);
  for (size_t i = 0; i < count; i++) order[i] = first + static_cast<uint32_t>(i);
  int bits = 0;
  while (bits < 31 && (int64_t{1} << bits) < numExperts) bits++;
  for (int shift = 0; shift < bits; shift += 8) {
    size_t histogram[257] = {0};
    for (size_t i = 0; i < count; i++) histogram[((static_cast<uint32_t>(ids[order[i]]) >> shift) & 255) + 1]++;
    for (int b = 0; b < 256; b++) histogram[b + 1] += histogram[b];
    for (size_t i = 0; i < count; i++) {
      const uint32_t flat = order[i];
      spare[histogram[(static_cast<uint32_t>(ids[flat]) >> shift) & 255]++] = flat;
    }
    order.swap(spare);
  }
}

struct Tables {
  const int32_t* ids;
  const float* u;
  const float* v;
  int d;
  const float* uRow(uint32_t flat) const { return u + static_cast<int64_t>(ids[flat]) * d; }
  const float* vRow(uint32_t flat) const { return v + static_cast<int64_t>(ids[flat]) * d; }
  /** Prefetches both rows of the pair at position `next` of `order`, unless it repeats the current expert. */
  void prefetch(const std::vector<uint32_t>& order, size_t next, uint32_t current) const {
    if (next >= order.size()) return;
    const uint32_t flat = order[next];
    if (ids[flat] == ids[current]) return;
    prefetchRow(uRow(flat), d);
    prefetchRow(vRow(flat), d);
  }
};

thread_local std::vector<uint32_t> pairOrder;
thread_local std::vector<uint32_t> pairSpare;

/** Runs body(from, to) over tokens, split in two threads when the work is large enough. */
template <typename Body>
void overTokens(int tokens, int slots, int threads, Body body) {
  if (threads < 2 || tokens < 2 || static_cast<int64_t>(tokens) * slots < SPLIT_MIN_SLOTS) {
    body(0, tokens);
    return;
  }
  const int half = tokens / 2;
  std::thread other([&] { body(half, tokens); });
  body(0, half);
  other.join();
}

/**
 * Zeroes the token rows [from, to) of `rows` (out or dx), then calls body(flat, token, tables) for every
 * (token, slot) pair in expert order, prefetching the rows of the pairs AHEAD positions later.
 */
template <typename PairBody>
void forEachPairByExpert(const ExpertsShape& shape, const Tables& tables, float* rows, int64_t numExperts, int threads,
                         PairBody body) {
  const int d = shape.d;
  const int slots = shape.slots;
  overTokens(shape.tokens, slots, threads, [&](int from, int to) {
    std::memset(rows + static_cast<int64_t>(from) * d, 0, sizeof(float) * static_cast<size_t>(to - from) * d);
    pairsByExpert(tables.ids, slots, from, to, numExperts, pairOrder, pairSpare);
    const std::vector<uint32_t>& order = pairOrder;
    for (size_t i = 0; i < order.size(); i++) {
      const uint32_t flat = order[i];
      tables.prefetch(order, i + AHEAD, flat);
      body(flat, static_cast<int64_t>(flat / slots));
    }
  });
}

} // namespace

void expertsForward(const ExpertsShape& shape, const float* x, const int32_t* ids, const float* gates,
                    const float* u, const float* v, float* out, float* preact, int64_t numExperts, int threads) {
  const int d = shape.d;
  const Tables tables{ids, u, v, d};
  forEachPairByExpert(shape, tables, out, numExperts, threads, [&](uint32_t flat, int64_t t) {
    const float a = dot(tables.uRow(flat), x + t * d, d);
    preact[flat] = a;
    const float c = gates[flat] * activate(a, shape.activation);
    if (c != 0.f) axpy(out + t * d, c, tables.vRow(flat), d);
  });
}

void expertsBackward(const ExpertsShape& shape, const float* dy, const int32_t* ids, const float* gates,
                     const float* u, const float* v, const float* preact, float* dx, float* dgates, float* coefU,
                     float* coefV, int64_t numExperts, int threads) {
  const int d = shape.d;
  const Tables tables{ids, u, v, d};
  forEachPairByExpert(shape, tables, dx, numExperts, threads, [&](uint32_t flat, int64_t t) {
    float dh = 0.f;
    const float h = activateWithGrad(preact[flat], shape.activation, &dh);
    // w = V[id] . dy is needed only when act or act' is non-zero.
    const float w = (h != 0.f || dh != 0.f) ? dot(tables.vRow(flat), dy + t * d, d) : 0.f;
    const float g = gates[flat];
    const float cu = g * dh * w;
    dgates[flat] = h * w;
    coefV[flat] = g * h;
    coefU[flat] = cu;
    if (cu != 0.f) axpy(dx + t * d, cu, tables.uRow(flat), d);
  });
}

void scatterRank1(float* out, int d, const int32_t* rowOf, const float* coef, const float* vecs,
                  const int32_t* vecOf, int count) {
  for (int i = 0; i < count; i++) {
    const float c = coef[i];
    if (c == 0.f) continue;
    axpy(out + static_cast<int64_t>(rowOf[i]) * d, c, vecs + static_cast<int64_t>(vecOf[i]) * d, d);
  }
}

int64_t firstOutOfRange(const int32_t* values, int64_t count, int64_t limit) {
  for (int64_t i = 0; i < count; i++)
    if (values[i] < 0 || values[i] >= limit) return i;
  return -1;
}

} // namespace peer
