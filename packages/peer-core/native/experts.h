// PEER expert evaluation (He 2024): single-neuron experts e_i(x) = act(u_i . x) v_i gathered by id from two
// tables. Same contract as src/kernels/peer-kernels.ts (expertsForward / expertsBackward / scatterRank1).
#pragma once

#include <cstdint>

namespace peer {

struct ExpertsShape {
  int tokens;
  int d;
  int slots;
  int activation; // 0 = ReLU, 1 = GELU (tanh approximation)
};

/** out[t] = sum_s gates[t,s] act(U[id] . x[t]) V[id]; preact[t,s] = U[id] . x[t]. Ids must be in range. */
void expertsForward(const ExpertsShape& shape, const float* x, const int32_t* ids, const float* gates,
                    const float* u, const float* v, float* out, float* preact, int64_t numExperts, int threads);

/** dx, dgates, coefU, coefV of expertsForward for upstream dy. Ids must be in range. */
void expertsBackward(const ExpertsShape& shape, const float* dy, const int32_t* ids, const float* gates,
                     const float* u, const float* v, const float* preact, float* dx, float* dgates, float* coefU,
                     float* coefV, int64_t numExperts, int threads);

/** out[rowOf[i]] += coef[i] * vecs[vecOf[i]]; indices must be in range. Single-threaded (rows may repeat). */
void scatterRank1(float* out, int d, const int32_t* rowOf, const float* coef, const float* vecs,
                  const int32_t* vecOf, int count);

/** Index of the first value outside [0, limit), or -1. */
int64_t firstOutOfRange(const int32_t* values, int64_t count, int64_t limit);

} // namespace peer
