import type { ActivationCode } from './peer-kernels.js';

// The JS twin of assembly/activation.ts: the same f64 expressions, rounded once to float32, so the reference
// and the SIMD kernels agree to the last bit except where the two tanh implementations differ by an ulp.

/** sqrt(2 / pi), the constant of the GELU tanh approximation (Hendrycks & Gimpel 2016). */
const GELU_C = 0.7978845608028654;
const GELU_A = 0.044715;

/** act(a): 0 = ReLU, 1 = GELU (tanh approximation), as float32. */
export function activate(a: number, code: ActivationCode): number {
  // Not Math.max: Math.max(NaN, 0) is NaN, while the wasm kernel's compare gives 0.
  if (code === 0) return a > 0 ? a : 0;
  const t = Math.tanh(GELU_C * (a + GELU_A * a * a * a));
  return Math.fround(0.5 * a * (1.0 + t));
}

/** act'(a) as float32; ReLU'(0) is 0. */
export function activateGrad(a: number, code: ActivationCode): number {
  if (code === 0) return a > 0 ? 1 : 0;
  const t = Math.tanh(GELU_C * (a + GELU_A * a * a * a));
  return Math.fround(0.5 * (1.0 + t) + 0.5 * a * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * a * a));
}
