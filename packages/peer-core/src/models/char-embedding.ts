import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../backend/fast-matmul.js';
import { PeerConfigError } from '../errors/peer-error.js';
import type { Random } from '../util/random.js';
import { normalVariable, onlyTrainable } from './param-init.js';

/**
 * Token plus learned position embeddings (GPT-2's wte + wpe). The token lookup is a one-hot matMul
 * rather than `tf.gather`: a character vocabulary is small (~100), so [B*T, V] x [V, d] is cheap, its
 * gradient is two plain matMuls, and it avoids the gather gradient (UnsortedSegmentSum), which wasm lacks
 * without our kernel and the cpu backend runs O(V) ops for (DESIGN §8).
 */
export class CharEmbedding {
  /** [vocabSize, dModel]; also the output projection when embeddings are tied. */
  readonly tokens: tf.Variable<tf.Rank.R2>;
  /** [contextLength, dModel]. */
  readonly positions: tf.Variable<tf.Rank.R2>;

  constructor(
    readonly vocabSize: number,
    readonly contextLength: number,
    readonly dModel: number,
    rng: Random,
    std: number,
  ) {
    this.tokens = normalVariable(rng, [vocabSize, dModel], std);
    this.positions = normalVariable(rng, [contextLength, dModel], std);
  }

  /** Token ids [batch * length] (row-major [batch, length]) -> embeddings [batch * length, dModel]. */
  apply(ids: Int32Array, batch: number, length: number): tf.Tensor2D {
    if (length > this.contextLength) {
      throw new PeerConfigError('length', `<= contextLength (${this.contextLength})`, length);
    }
    const bad = ids.findIndex((id) => id < 0 || id >= this.vocabSize);
    if (bad >= 0) throw new PeerConfigError(`tokens[${bad}]`, `in [0, ${this.vocabSize - 1}]`, ids[bad]);
    const d = this.dModel;
    return tf.tidy(() => {
      const oneHot = tf.oneHot(tf.tensor1d(ids, 'int32'), this.vocabSize).toFloat(); // [B*T] -> [B*T, V]
      const tok = fastMatMul(oneHot as tf.Tensor2D, this.tokens); // [B*T, V] x [V, d] -> [B*T, d]
      const pos = this.positions.slice([0, 0], [length, d]); // [ctx, d] -> [T, d]
      return tok
        .reshape([batch, length, d]) // [B*T, d] -> [B, T, d]
        .add(pos) // broadcast over B
        .reshape([batch * length, d]) as tf.Tensor2D; // [B, T, d] -> [B*T, d]
    });
  }

  variables(): tf.Variable[] {
    return [this.tokens, this.positions];
  }

  trainableVariables(): tf.Variable[] {
    return onlyTrainable(this.variables());
  }

  dispose(): void {
    this.tokens.dispose();
    this.positions.dispose();
  }
}
