import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../../backend/fast-matmul.js';
import type { ExpertUsage } from '../../metrics/expert-usage.js';
import type { Random } from '../../util/random.js';
import { readTensorSync } from '../../util/read-tensor.js';
import { Dense } from '../dense.js';
import type { FeedForward } from '../feed-forward.js';
import { gelu } from '../gelu.js';
import { parseConfig } from '../parse-config.js';
import { decisionEntropy, descendTree, softLeafProbabilities } from './fff-tree.js';
import { type FffBlockConfig, type FffBlockConfigInput, fffBlockSchema } from './ffn-configs.js';
import { groupByExpert, runDispatched } from './sparse-dispatch.js';

/** Construction options of {@link FffFeedForward}. */
export interface FffOptions {
  readonly rng: Random;
  readonly std?: number;
  readonly outStd?: number;
}

/**
 * A fast feed-forward network in a feed-forward slot (Belcak & Wattenhofer 2023): 2^D − 1 single-neuron
 * nodes route each token down a binary tree to one of 2^D leaf MLPs d -> leafWidth -> d.
 * - Training: the soft mixture Σ_ℓ P(ℓ | x) · leaf_ℓ(x) over all leaves (differentiable in nodes and
 *   leaves) plus the node-entropy hardening loss. All leaves run: two matmuls over the concatenated leaves.
 * - Inference: hard descent, one leaf per token (conditional execution: `depth` node neurons and one leaf).
 *
 * @example const fff = new FffFeedForward(64, { depth: 3, leafWidth: 32 }, { rng: createRandom(0) });
 */
export class FffFeedForward implements FeedForward {
  readonly config: FffBlockConfig;
  /** Node neurons: logits = x W + b, [d, 2^D − 1]. */
  readonly nodes: Dense;
  /** All leaves' first layers side by side, [d, 2^D · leafWidth]; leaf ℓ owns columns ℓ·w .. (ℓ+1)·w − 1. */
  readonly up: Dense;
  /** All leaves' second layers stacked, [2^D · leafWidth, d] (no bias: per-leaf biases live in `leafBias`). */
  readonly down: Dense;
  /** Per-leaf output bias [2^D, d]. */
  readonly leafBias: tf.Variable<tf.Rank.R2>;
  usage: ExpertUsage | undefined;

  constructor(
    readonly dModel: number,
    config: FffBlockConfigInput = {},
    options: FffOptions,
  ) {
    const c = parseConfig(fffBlockSchema, config);
    this.config = c;
    const { rng, std, outStd } = options;
    const leaves = 2 ** c.depth;
    this.nodes = new Dense(dModel, leaves - 1, rng, std === undefined ? {} : { std });
    this.up = new Dense(dModel, leaves * c.leafWidth, rng, std === undefined ? {} : { std });
    this.down = new Dense(leaves * c.leafWidth, dModel, rng, {
      bias: false,
      ...(outStd === undefined ? {} : { std: outStd }),
    });
    this.leafBias = tf.tidy(() => tf.variable(tf.zeros([leaves, dModel]), true));
  }

  get numExperts(): number {
    return 2 ** this.config.depth;
  }

  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => this.applyWithLoss(x, training).output);
  }

  /** Soft mixture + hardening loss in training; hard descent (and a zero loss) in inference. */
  applyWithLoss(x: tf.Tensor2D, training: boolean): { output: tf.Tensor2D; auxLoss: tf.Scalar } {
    return tf.tidy(() => {
      const logits = this.nodes.apply(x); // [T, d] -> [T, 2^D - 1]
      if (!training) return { output: this.hard(x, logits), auxLoss: tf.scalar(0) };
      const { depth, leafWidth } = this.config;
      const tokens = x.shape[0];
      const leaves = 2 ** depth;
      const p = softLeafProbabilities(logits, depth); // [T, L]
      const hidden = gelu(this.up.apply(x)).reshape([tokens, leaves, leafWidth]); // [T, L*w] -> [T, L, w]
      const weighted = hidden.mul(p.reshape([tokens, leaves, 1])).reshape([tokens, leaves * leafWidth]);
      const output = this.down
        .apply(weighted as tf.Tensor2D)
        .add(fastMatMul(p, this.leafBias)) as tf.Tensor2D;
      return { output, auxLoss: decisionEntropy(logits).mul(this.config.hardeningWeight) as tf.Scalar };
    });
  }

  /** Leaf index per token under hard descent (inference routing). */
  leafOf(x: tf.Tensor2D): Int32Array {
    return tf.tidy(() => {
      const logits = this.nodes.apply(x);
      return descendTree(Float32Array.from(readTensorSync(logits)), x.shape[0], this.config.depth);
    });
  }

  trainableVariables(): tf.Variable[] {
    return [
      ...this.nodes.trainableVariables(),
      ...this.up.trainableVariables(),
      ...this.down.trainableVariables(),
      this.leafBias,
    ].filter((v) => v.trainable);
  }

  dispose(): void {
    this.nodes.dispose();
    this.up.dispose();
    this.down.dispose();
    this.leafBias.dispose();
  }

  /** Runs each token's one leaf only: the slice of `up`/`down` that leaf owns. */
  private hard(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor2D {
    const { depth, leafWidth: w } = this.config;
    const tokens = x.shape[0];
    const leaf = descendTree(Float32Array.from(readTensorSync(logits)), tokens, depth);
    if (this.usage) this.usage.add({ ids: leaf, gates: new Float32Array(tokens).fill(1) });
    const dispatch = groupByExpert(leaf, tokens, 1, 2 ** depth);
    const upBias = this.up.bias;
    return runDispatched(x, dispatch, (l, rows) => {
      const d = this.dModel;
      const w1 = this.up.weight.slice([0, l * w], [d, w]); // [d, L*w] -> [d, w]
      const b1 = upBias ? upBias.slice([l * w], [w]) : tf.zeros([w]);
      const w2 = this.down.weight.slice([l * w, 0], [w, d]); // [L*w, d] -> [w, d]
      const b2 = this.leafBias.slice([l, 0], [1, d]);
      return fastMatMul(gelu(fastMatMul(rows, w1).add(b1)) as tf.Tensor2D, w2).add(b2) as tf.Tensor2D;
    });
  }
}
