import * as tf from '@tensorflow/tfjs';
import type { NativeAddon } from '../kernels/native-addon.js';
import { readTensorSync } from '../util/read-tensor.js';

/**
 * op(A) op(B) through the native AVX2/FMA GEMM: 2.5-3x the wasm backend's XNNPACK matMul on one thread for
 * the PEER shapes ([512,256]x[256,1024] query projection, [4096,64]x[64,1024] sub-key scores), and transposed
 * operands cost the same as plain ones (the packing reads them). Not differentiable by itself: fastMatMul
 * wraps it with the gradient products, which are native products too.
 */
export function nativeProduct(
  addon: NativeAddon,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA: boolean,
  transposeB: boolean,
  threads: number,
): tf.Tensor2D {
  const m = transposeA ? a.shape[1] : a.shape[0];
  const k = transposeA ? a.shape[0] : a.shape[1];
  const n = transposeB ? b.shape[0] : b.shape[1];
  const out = new Float32Array(m * n);
  // Heap views are valid until the next tfjs op: read both, then run the product before creating anything.
  addon.gemm(m, n, k, readTensorSync(a), transposeA, readTensorSync(b), transposeB, out, false, threads);
  return tf.tensor2d(out, [m, n]);
}
