import * as tf from '@tensorflow/tfjs';
import { PeerShapeError } from '../errors/peer-error.js';
import { defaultKernelThreads, defaultNativeAddon } from '../kernels/default-kernels.js';
import { matMulGradients } from './matmul-gradients.js';
import { nativeMatMul } from './native-matmul.js';

/**
 * Matrix product whose forward and backward products all run on the native GEMM where the default kernels
 * are native (a registered kernel, {@link nativeMatMul}), else as explicit `tf.transpose` + plain 2-D
 * `tf.matMul` (see `product` below).
 *
 * Without native kernels: on wasm only a plain, non-transposed 2-D matMul reaches XNNPACK; `transposeA`/`transposeB` take a
 * scalar path at ~1 GFLOP/s, and `tf.matMul`'s own gradient uses exactly those. Measured on wasm
 * (1 thread, 2-core box shared with other jobs; test/backend/wasm-bench.test.ts, medians of 3 runs),
 * forward + backward of [1024x512]@[512x512]: tf.matMul 1024-1078 ms, fastMatMul 91-110 ms (9-12x);
 * with transposeB: 1159-1188 ms vs 82-141 ms (8-15x).
 *
 * @example const logits = fastMatMul(hidden, embeddings, false, true); // hidden @ embeddingsᵀ
 */
export function fastMatMul(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  transposeA = false,
  transposeB = false,
): tf.Tensor2D {
  if (a.rank !== 2 || b.rank !== 2) {
    throw new PeerShapeError(`fastMatMul() needs 2-D operands, but got shapes [${a.shape}] and [${b.shape}]`);
  }
  const inner = transposeA ? a.shape[0] : a.shape[1];
  const innerB = transposeB ? b.shape[1] : b.shape[0];
  if (inner !== innerB) {
    throw new PeerShapeError(
      `fastMatMul() inner dimensions must agree, but a${transposeA ? 'ᵀ' : ''} is [${a.shape}] and b${transposeB ? 'ᵀ' : ''} is [${b.shape}]`,
    );
  }
  const addon = nativeAddon();
  if (addon) return nativeMatMul(addon, a, b, transposeA, transposeB, defaultKernelThreads());
  return variants[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)]?.(a, b) as tf.Tensor2D;
}

/** The native addon where the default kernels are native; tfjs-node keeps its own BLAS matMul. */
const nativeAddon = () => (tf.getBackend() === 'tensorflow' ? undefined : defaultNativeAddon());

type Product = (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** `x` itself, or `xᵀ` as an explicit transpose (a copy XNNPACK can then read contiguously). */
const maybeT = (x: tf.Tensor2D, t: boolean): tf.Tensor2D => (t ? tf.transpose(x) : x);

/** op(x) op(y) as an explicit transpose + plain matMul (the path without native kernels). */
function product(x: tf.Tensor2D, y: tf.Tensor2D, tx: boolean, ty: boolean): tf.Tensor2D {
  return tf.matMul(maybeT(x, tx), maybeT(y, ty));
}

/** One customGrad per (transposeA, transposeB), with the gradients of {@link matMulGradients}. */
function variant(transposeA: boolean, transposeB: boolean): Product {
  // customGrad passes inputs and the save function as one untyped rest list: (a, b, save).
  const forward = tf.customGrad((...args) => {
    const [x, y, save] = args as [tf.Tensor2D, tf.Tensor2D, (tensors: tf.Tensor[]) => void];
    save([x, y]);
    return {
      value: product(x, y, transposeA, transposeB),
      gradFunc: (dy, saved) => {
        const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
        const grads = matMulGradients(sa, sb, dy as tf.Tensor2D, transposeA, transposeB, product);
        return [grads.a(), grads.b()];
      },
    };
  });
  return (a, b) => forward(a, b) as tf.Tensor2D;
}

const variants: readonly Product[] = [
  variant(false, false),
  variant(false, true),
  variant(true, false),
  variant(true, true),
];
