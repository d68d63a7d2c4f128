import * as tf from '@tensorflow/tfjs';
import type { CausalSelfAttention } from './causal-attention.js';
import type { FeedForward } from './feed-forward.js';
import { LayerNorm } from './layer-norm.js';

/**
 * A pre-LN transformer block (GPT-2): x = x + attn(LN1(x)); x = x + ffn(LN2(x)). The FFN is any
 * {@link FeedForward} (dense, PEER, ...), so layers can be swapped without touching attention.
 */
export class TransformerBlock {
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;

  constructor(
    readonly attention: CausalSelfAttention,
    readonly ffn: FeedForward,
    epsilon: number,
  ) {
    this.norm1 = new LayerNorm(attention.dModel, epsilon);
    this.norm2 = new LayerNorm(attention.dModel, epsilon);
  }

  /** x [batch * length, d] -> [batch * length, d]. */
  apply(x: tf.Tensor2D, batch: number, length: number, training: boolean): tf.Tensor2D {
    return tf.tidy(() => this.forward(x, batch, length, training).output);
  }

  /** {@link apply} plus the FFN's auxiliary loss (balancing, hardening), when its kind has one. */
  forward(
    x: tf.Tensor2D,
    batch: number,
    length: number,
    training: boolean,
  ): { output: tf.Tensor2D; auxLoss: tf.Scalar | undefined } {
    return tf.tidy(() => {
      const h = x.add(this.attention.apply(this.norm1.apply(x), batch, length)) as tf.Tensor2D;
      const normed = this.norm2.apply(h);
      if (!this.ffn.applyWithLoss)
        return { output: h.add(this.ffn.apply(normed, training)), auxLoss: undefined };
      const { output, auxLoss } = this.ffn.applyWithLoss(normed, training);
      return { output: h.add(output) as tf.Tensor2D, auxLoss };
    });
  }

  /**
   * Inference forward that first hands the FFN its exact inputs to re-estimate query batch-norm statistics
   * from (when the FFN has BN), then returns the block output computed with the new statistics.
   */
  recalibrate(x: tf.Tensor2D, batch: number, length: number): tf.Tensor2D {
    return tf.tidy(() => {
      const h = x.add(this.attention.apply(this.norm1.apply(x), batch, length)) as tf.Tensor2D;
      const normed = this.norm2.apply(h);
      this.ffn.recalibrate?.(normed);
      return h.add(this.ffn.apply(normed, false)) as tf.Tensor2D;
    });
  }

  trainableVariables(): tf.Variable[] {
    return [
      ...this.norm1.trainableVariables(),
      ...this.attention.trainableVariables(),
      ...this.norm2.trainableVariables(),
      ...this.ffn.trainableVariables(),
    ];
  }

  dispose(): void {
    this.norm1.dispose();
    this.norm2.dispose();
    this.attention.dispose();
    this.ffn.dispose();
  }
}
