import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../backend/fast-matmul.js';
import type { Random } from '../util/random.js';
import { constantVariable, normalVariable, onlyTrainable } from './param-init.js';

/** Initialisation options of {@link Dense}. */
export interface DenseOptions {
  /** Std of the weight init; default 1/sqrt(inDim) keeps activations at unit scale (LeCun init). */
  readonly std?: number;
  /** Adds a bias (default true). */
  readonly bias?: boolean;
}

/**
 * y = x W + b with W [inDim, outDim]. Uses `fastMatMul` (plain 2-D matMuls forward and backward): tfjs's own
 * matMul gradient takes the transposed-operand path, ~15x slower on wasm (DESIGN §8).
 */
export class Dense {
  readonly weight: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1> | undefined;

  constructor(
    readonly inDim: number,
    readonly outDim: number,
    rng: Random,
    options: DenseOptions = {},
  ) {
    this.weight = normalVariable(rng, [inDim, outDim], options.std ?? 1 / Math.sqrt(inDim));
    this.bias = options.bias === false ? undefined : constantVariable([outDim], 0);
  }

  /** [tokens, inDim] -> [tokens, outDim]. */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const { bias } = this;
    return tf.tidy(() => {
      const y = fastMatMul(x, this.weight);
      return bias ? y.add(bias) : y;
    });
  }

  variables(): tf.Variable[] {
    return this.bias ? [this.weight, this.bias] : [this.weight];
  }

  trainableVariables(): tf.Variable[] {
    return onlyTrainable(this.variables());
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}
