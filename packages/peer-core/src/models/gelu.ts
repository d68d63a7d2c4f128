import * as tf from '@tensorflow/tfjs';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU, tanh approximation (Hendrycks & Gimpel 2016): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³))).
 * tfjs has no gelu op; this is built from ops that exist (with gradients) on cpu and wasm, and it is the
 * same approximation the PEER expert kernels use, so dense and PEER FFNs share one non-linearity.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const cube = x.mul(x).mul(x);
    const inner = x.add(cube.mul(0.044715)).mul(SQRT_2_OVER_PI);
    return x.mul(tf.tanh(inner).add(1)).mul(0.5) as T;
  });
}
