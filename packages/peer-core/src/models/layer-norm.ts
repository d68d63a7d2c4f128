import * as tf from '@tensorflow/tfjs';
import { defaultNativeAddon } from '../kernels/default-kernels.js';
import type { NativeAddon } from '../kernels/native-addon.js';
import { readTensorSync } from '../util/read-tensor.js';
import { constantVariable, onlyTrainable } from './param-init.js';

/**
 * Layer normalisation over the feature axis (Ba et al. 2016) with a learned gain and bias.
 *
 * Where the default kernels are native it is one op whose forward and backward are single AVX2 passes over
 * each row (the forward keeps the normalised rows for the backward), about 3x faster than the composition of
 * tfjs ops on wasm (`npm run bench:dense-ops -w @peer/core`); a Split-MNIST MLP step has two of them, a
 * char-LM block two per block. Elsewhere (no addon, tfjs-node) it is that composition ({@link composedLayerNorm}).
 */
export class LayerNorm {
  readonly gamma: tf.Variable<tf.Rank.R1>;
  readonly beta: tf.Variable<tf.Rank.R1>;

  /** @param epsilon added to the variance; 1e-5 is PyTorch's and nanoGPT's default. */
  constructor(
    readonly width: number,
    readonly epsilon = 1e-5,
  ) {
    this.gamma = constantVariable([width], 1);
    this.beta = constantVariable([width], 0);
  }

  /** [tokens, width] -> [tokens, width], each row normalised to mean 0, variance 1, then scaled. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const addon =
      x.dtype === 'float32' && tf.getBackend() !== 'tensorflow' ? defaultNativeAddon() : undefined;
    return addon
      ? nativeLayerNorm(addon, this.epsilon)(x, this.gamma, this.beta)
      : composedLayerNorm(x, this.gamma, this.beta, this.epsilon);
  }

  variables(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  trainableVariables(): tf.Variable[] {
    return onlyTrainable(this.variables());
  }

  dispose(): void {
    this.gamma.dispose();
    this.beta.dispose();
  }
}

/** Layer norm as tfjs ops (moments, rsqrt; differentiable on every backend): the reference and the fallback. */
export function composedLayerNorm(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 1, true); // [T, 1] each
    return x
      .sub(mean)
      .mul(tf.rsqrt(variance.add(epsilon)))
      .mul(gamma)
      .add(beta);
  });
}

type LayerNormOp = (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D) => tf.Tensor2D;

const ops = new WeakMap<NativeAddon, Map<number, LayerNormOp>>();

/** The one-op layer norm on `addon`'s kernels for one epsilon (built once per addon and epsilon). */
function nativeLayerNorm(addon: NativeAddon, epsilon: number): LayerNormOp {
  let byEpsilon = ops.get(addon);
  if (!byEpsilon) {
    byEpsilon = new Map();
    ops.set(addon, byEpsilon);
  }
  let op = byEpsilon.get(epsilon);
  if (!op) {
    const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xt, gammaT, betaT] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D];
      const [rows, cols] = xt.shape;
      const out = new Float32Array(rows * cols);
      const xhat = new Float32Array(rows * cols);
      const rstd = new Float32Array(rows);
      // The backward needs gamma as it was in this forward: copied, since a heap view dies at the next op.
      const gamma = readTensorSync(gammaT).slice();
      addon.layerNormForward(
        readTensorSync(xt),
        gamma,
        readTensorSync(betaT),
        out,
        xhat,
        rstd,
        rows,
        cols,
        epsilon,
      );
      const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
        const dx = new Float32Array(rows * cols);
        const dgamma = new Float32Array(cols);
        const dbeta = new Float32Array(cols);
        addon.layerNormBackward(readTensorSync(dy), xhat, rstd, gamma, dx, dgamma, dbeta, rows, cols);
        return [tf.tensor2d(dx, [rows, cols]), tf.tensor1d(dgamma), tf.tensor1d(dbeta)];
      };
      return { value: tf.tensor2d(out, [rows, cols]), gradFunc };
    });
    op = (x, gamma, beta) => fused(x, gamma, beta) as tf.Tensor2D;
    byEpsilon.set(epsilon, op);
  }
  return op;
}
