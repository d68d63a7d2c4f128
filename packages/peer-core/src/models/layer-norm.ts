import * as tf from '@tensorflow/tfjs';
import { constantVariable, onlyTrainable } from './param-init.js';

/**
 * Layer normalisation over the feature axis (Ba et al. 2016) with a learned gain and bias, from plain tf
 * ops (moments, rsqrt) so its gradient exists on every backend.
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
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, 1, true); // [T, 1] each
      return x
        .sub(mean)
        .mul(tf.rsqrt(variance.add(this.epsilon)))
        .mul(this.gamma)
        .add(this.beta);
    });
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
