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
    return tf.tidy(() => {
      const h = x.add(this.attention.apply(this.norm1.apply(x), batch, length)) as tf.Tensor2D;
      return h.add(this.ffn.apply(this.norm2.apply(h), training)) as tf.Tensor2D;
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
