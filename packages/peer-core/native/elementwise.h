// Elementwise kernels of training: the fused Adam update and the GELU non-linearity of dense FFNs. Same
// contracts as src/train/dense-adam.ts (adamUpdate) and src/models/gelu.ts (the JS fallbacks).
#pragma once

#include <cstdint>

namespace peer {

struct AdamStep {
  float learningRate;
  float beta1;
  float beta2;
  float epsilon;
  /** 1 / (1 - beta1^t) and 1 / (1 - beta2^t) of the step t being taken. */
  float correction1;
  float correction2;
};

/** m, v updated in place; out = params - lr (m c1) / (sqrt(v c2) + eps). `out` may alias `params`. */
void adamUpdate(const AdamStep& step, const float* params, const float* grads, float* m, float* v, float* out,
                int64_t n);

/** out = 0.5 x (1 + t) with t = tanh(sqrt(2/pi) (x + 0.044715 x^3)), which is kept for the backward. */
void geluForward(const float* x, float* out, float* t, int64_t n);

/** dx = dy * GELU'(x), from x and the forward's t. */
void geluBackward(const float* x, const float* t, const float* dy, float* dx, int64_t n);

} // namespace peer
