// Layer normalisation of dense models (Ba et al. 2016) as two fused passes: the contract of
// src/models/layer-norm.ts's native path, whose composed tfjs ops are the reference and the fallback.
#pragma once

#include <cstdint>

namespace peer {

/**
 * Each of `rows` rows of x [rows, cols]: xhat = (x - mean) rstd with rstd = 1 / sqrt(var + eps) (biased
 * variance, as tf.moments), out = xhat gamma + beta. xhat and rstd [rows] are kept for the backward.
 */
void layerNormForward(const float* x, const float* gamma, const float* beta, float* out, float* xhat, float* rstd,
                      int64_t rows, int64_t cols, float eps);

/**
 * Gradients of the forward above from its xhat and rstd: dgamma = sum over rows of dy xhat, dbeta = sum of dy
 * (both overwritten), and with g = dy gamma, dx = rstd (g - mean(g) - xhat mean(g xhat)) per row.
 */
void layerNormBackward(const float* dy, const float* xhat, const float* rstd, const float* gamma, float* dx,
                       float* dgamma, float* dbeta, int64_t rows, int64_t cols);

} // namespace peer
