import * as tf from '@tensorflow/tfjs';
import { type PeerConfig, parsePeerConfig } from '../../config/peer-config.js';
import { defaultKernelHeap, defaultKernels } from '../../kernels/default-kernels.js';
import type { KernelHeap } from '../../kernels/kernel-heap.js';
import type { PeerKernels } from '../../kernels/peer-kernels.js';
import { type PeerQueries, retrieveExperts, selectedLogits } from '../../layer/peer-retrieval.js';
import { QueryNetwork } from '../../layer/query-network.js';
import { SubKeyCodebooks } from '../../layer/sub-key-codebooks.js';
import type { ExpertUsage } from '../../metrics/expert-usage.js';
import type { ExpertSelection } from '../../retrieval/product-key-topk.js';
import { createRandom } from '../../util/random.js';
import { readTensorSync } from '../../util/read-tensor.js';
import type { FeedForward } from '../feed-forward.js';
import { normalVariable } from '../param-init.js';
import { parseConfig } from '../parse-config.js';
import { type PkmBlockConfig, type PkmBlockConfigInput, pkmBlockSchema } from './ffn-configs.js';

/** Construction options of {@link PkmFeedForward}. */
export interface PkmOptions {
  /** Seed of the query network, sub-keys and values. */
  readonly seed?: number;
  readonly kernels?: PeerKernels;
  readonly heap?: KernelHeap;
}

/**
 * A product-key memory layer in a feed-forward slot (Lample et al. 2019): per head, query q = BN(W_q x),
 * exact product-key top-k over N = rows·cols keys, and out = Σ_heads Σ_i softmax(scores)_i · V[id_i] with
 * V [N, d] plain value vectors. It shares PEER's query network, sub-key codebooks and retrieval (PEER
 * replaces each value by a single-neuron expert σ(u·x)·v, He 2024 §2).
 *
 * @example const pkm = new PkmFeedForward(64, { subKeyRows: 128, subKeyCols: 128 });
 */
export class PkmFeedForward implements FeedForward {
  readonly config: PkmBlockConfig;
  /** The equivalent PEER layer config (retrieval settings only: query network and keys). */
  readonly retrievalConfig: PeerConfig;
  readonly query: QueryNetwork;
  readonly keys: SubKeyCodebooks;
  /** Value memory [N, d], N(0, 1/d) (Lample et al. 2019 initialise values N(0, 1/d)). */
  readonly values: tf.Variable<tf.Rank.R2>;
  usage: ExpertUsage | undefined;
  private readonly kernels: PeerKernels;
  private readonly heap: KernelHeap;

  constructor(dModel: number, config: PkmBlockConfigInput = {}, options: PkmOptions = {}) {
    const c = parseConfig(pkmBlockSchema, config);
    this.config = c;
    this.retrievalConfig = parsePeerConfig({ ...c, dModel });
    this.kernels = options.kernels ?? defaultKernels();
    this.heap = options.heap ?? defaultKernelHeap();
    const rng = createRandom(options.seed ?? 0);
    this.query = new QueryNetwork(this.retrievalConfig, rng);
    this.keys = new SubKeyCodebooks(this.retrievalConfig, rng);
    this.values = normalVariable(rng, [c.subKeyRows * c.subKeyCols, dModel], 1 / Math.sqrt(dModel));
  }

  get numExperts(): number {
    return this.config.subKeyRows * this.config.subKeyCols;
  }

  /** Differentiable forward x [tokens, d] -> [tokens, d]. */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const { heads, topK } = this.config;
    const [tokens, d] = x.shape;
    return tf.tidy(() => {
      const { weights, selection } = this.retrieve(x, training);
      if (this.usage && !training) {
        this.usage.add({ ids: selection.ids, gates: Float32Array.from(readTensorSync(weights)) });
      }
      const picked = tf.gather(this.values, tf.tensor1d(selection.ids, 'int32')); // [B*H*k, d]
      const mixed = picked.mul(weights.reshape([tokens * heads * topK, 1])); // [B*H, k] -> [B*H*k, 1]
      return mixed.reshape([tokens, heads * topK, d]).sum(1) as tf.Tensor2D; // [B, H*k, d] -> [B, d]
    });
  }

  /** Softmax weights [tokens * heads, k] of the retrieved values (row = token * heads + head) and the ids. */
  retrieve(x: tf.Tensor2D, training: boolean): { weights: tf.Tensor2D; selection: ExpertSelection } {
    const { heads, topK } = this.config;
    let selection: ExpertSelection | undefined;
    const weights = tf.tidy(() => {
      const [q1, q2] = this.query.apply(x, training);
      const queries: PeerQueries = { tokens: x.shape[0], heads, q1, q2 };
      selection = retrieveExperts(queries, this.keys, topK, this.kernels, this.heap);
      return tf.softmax(selectedLogits(queries, this.keys, selection, this.kernels)) as tf.Tensor2D;
    });
    if (!selection) throw new Error('unreachable: tidy ran synchronously');
    return { weights, selection };
  }

  /** Re-estimates the query BN statistics from inputs `x` (PreciseBN; see `QueryNetwork.recalibrate`). */
  recalibrate(x: tf.Tensor2D): void {
    this.query.recalibrate(x);
  }

  trainableVariables(): tf.Variable[] {
    return [...this.query.trainableVariables(), ...this.keys.trainableVariables(), this.values];
  }

  dispose(): void {
    for (const v of this.query.variables()) v.dispose();
    this.query.dispose();
    this.keys.dispose();
    this.values.dispose();
  }
}
