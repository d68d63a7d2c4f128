import * as tf from '@tensorflow/tfjs';
import { defaultNativeAddon } from '../kernels/default-kernels.js';
import type { NativeAddon } from '../kernels/native-addon.js';
import { readTensorSync } from '../util/read-tensor.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * GELU, tanh approximation (Hendrycks & Gimpel 2016): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³))), the
 * same approximation the PEER expert kernels use, so dense and PEER FFNs share one non-linearity.
 *
 * Where the default kernels are native it is one op whose forward and backward are single AVX2 passes (the
 * forward keeps its tanh for the backward): forward + backward of a [128, 400] activation take 0.86 ms
 * against 2.95 ms for the composition of tfjs ops on wasm (`npm run bench:dense-ops -w @peer/core`,
 * medians). Elsewhere (no addon, tfjs-node) it is that composition with tfjs's gradients.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  const addon = x.dtype === 'float32' && tf.getBackend() !== 'tensorflow' ? defaultNativeAddon() : undefined;
  return addon ? (nativeGelu(addon)(x) as T) : composedGelu(x);
}

/** GELU as tfjs ops (differentiable through tfjs's own gradients): the reference and the fallback. */
export function composedGelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const cube = x.mul(x).mul(x);
    const inner = x.add(cube.mul(0.044715)).mul(SQRT_2_OVER_PI);
    return x.mul(tf.tanh(inner).add(1)).mul(0.5) as T;
  });
}

const ops = new WeakMap<NativeAddon, (x: tf.Tensor) => tf.Tensor>();

/** The one-op GELU on `addon`'s kernels (built once per addon). */
function nativeGelu(addon: NativeAddon): (x: tf.Tensor) => tf.Tensor {
  let op = ops.get(addon);
  if (!op) {
    const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xt] = args as [tf.Tensor];
      const n = xt.size;
      // The backward reads x and t from these copies: heap views die at the next tfjs op.
      const xs = readTensorSync(xt).slice();
      const out = new Float32Array(n);
      const t = new Float32Array(n);
      addon.geluForward(xs, out, t, n);
      const gradFunc = (dy: tf.Tensor): tf.Tensor => {
        const dx = new Float32Array(n);
        addon.geluBackward(xs, t, readTensorSync(dy), dx, n);
        return tf.tensor(dx, xt.shape, 'float32');
      };
      return { value: tf.tensor(out, xt.shape, 'float32'), gradFunc };
    });
    op = (x) => fused(x);
    ops.set(addon, op);
  }
  return op;
}
