import * as tf from '@tensorflow/tfjs';
import { type PeerConfig, type PeerConfigInput, parsePeerConfig } from '../config/peer-config.js';
import { defaultKernelHeap, defaultKernels } from '../kernels/default-kernels.js';
import type { KernelHeap } from '../kernels/kernel-heap.js';
import type { PeerKernels } from '../kernels/peer-kernels.js';
import type { ExpertSelection } from '../retrieval/product-key-topk.js';
import { createRandom, type Random } from '../util/random.js';
import { ExpertGradientSink } from './expert-gradients.js';
import { ExpertTables } from './expert-tables.js';
import { mixExperts, mixExpertsForward } from './mix-experts-op.js';
import { retrieveExperts, selectedLogits } from './peer-retrieval.js';
import { QueryNetwork } from './query-network.js';
import { SmallBatchRouter, servesSmallBatch } from './small-batch-router.js';
import { SubKeyCodebooks } from './sub-key-codebooks.js';

export interface PeerLayerOptions {
  /** Seed of the parameter initialisation (default 0): layers are reproducible. */
  readonly seed?: number;
  readonly kernels?: PeerKernels;
  readonly heap?: KernelHeap;
  /** Std of new experts' output weights v (default 1/sqrt(d)); 0 makes new experts start silent. */
  readonly expertOutputStd?: number;
  /** Leave the expert tables unset (zero): for deserialization, which overwrites every row. */
  readonly skipInit?: boolean;
}

/** What one batch retrieved, token-major: `ids`/`gates` are [tokens, heads, k] flattened. */
export interface PeerRetrieval {
  readonly tokens: number;
  readonly heads: number;
  readonly k: number;
  readonly ids: Int32Array;
  readonly gates: Float32Array;
}

/**
 * A PEER layer (He 2024): per token and head, retrieve the top-k of `rows * cols` single-neuron experts by
 * product keys and return sum_h sum_i softmax(scores)_i * act(u_i . x) v_i.
 * Small parameters (query network, sub-keys) are tfjs variables trained by a tfjs optimizer; the expert
 * tables live in the kernel heap and train through sparse row updates (see `ExpertGradientSink`).
 */
export class PeerLayer {
  readonly query: QueryNetwork;
  readonly keys: SubKeyCodebooks;
  readonly experts: ExpertTables;
  readonly gradients = new ExpertGradientSink();
  readonly kernels: PeerKernels;
  readonly heap: KernelHeap;
  readonly rng: Random;
  /** Experts with id below this are frozen (growth freezes all rows that existed before). */
  frozenExperts = 0;
  private readonly baseConfig: PeerConfig;
  private readonly vStd: number;
  /**
   * A zero that joins the gates on the training tape while experts are trainable. tfjs runs a custom
   * gradient only on a path from a trainable variable; without this, experts under a fully frozen router
   * would silently get no gradient. Its own gradient is 0 * (...) = 0, so it never moves.
   */
  private readonly expertProbe = tf.tidy(() => tf.variable(tf.scalar(0), true));
  /** Serving of a few tokens without tfjs ops (per-op dispatch dominates at one token). */
  private readonly smallBatch: SmallBatchRouter;

  constructor(config: PeerConfigInput | PeerConfig, options: PeerLayerOptions = {}) {
    this.baseConfig = parsePeerConfig(config);
    const c = this.baseConfig;
    this.kernels = options.kernels ?? defaultKernels();
    this.heap = options.heap ?? defaultKernelHeap();
    this.rng = createRandom(options.seed ?? 0);
    this.vStd = options.expertOutputStd ?? 1 / Math.sqrt(c.dModel);
    this.query = new QueryNetwork(c, this.rng);
    this.keys = new SubKeyCodebooks(c, this.rng);
    this.experts = new ExpertTables(this.heap, {
      rows: c.subKeyRows,
      cols: c.subKeyCols,
      capacityRows: c.capacityRows,
      d: c.dModel,
    });
    if (!options.skipInit) this.experts.initRows(0, c.subKeyRows, this.rng, this.vStd);
    this.smallBatch = new SmallBatchRouter(this.query, this.keys, this.kernels, this.heap, c.heads, c.topK);
  }

  /** The current config (rows reflect growth). */
  get config(): PeerConfig {
    return { ...this.baseConfig, subKeyRows: this.keys.rows };
  }

  get numExperts(): number {
    return this.experts.numExperts;
  }

  /** Differentiable forward: x [tokens, dModel] -> [tokens, dModel]. Call inside a tidy/tape. */
  apply(x: tf.Tensor2D, options: { training?: boolean } = {}): tf.Tensor2D {
    return tf.tidy(() => {
      const routed = this.route(x, options.training ?? false);
      let { gates } = routed;
      if (options.training && this.expertsTrainable) gates = gates.add(this.expertProbe.mul(0));
      return mixExperts(x, gates, routed.ids, {
        kernels: this.kernels,
        tables: this.experts,
        activation: this.activationCode,
        ...(options.training ? { sink: this.gradients } : {}),
      });
    });
  }

  /**
   * Inference forward with asynchronous tensor reads (request paths): output [tokens, dModel] plus what was
   * retrieved. The caller owns (and disposes) the returned tensor.
   */
  async applyAsync(x: tf.Tensor2D): Promise<{ output: tf.Tensor2D; retrieval: PeerRetrieval }> {
    const xData = (await x.data()) as Float32Array;
    const retrieval = await this.retrieveAsync(x, xData);
    const slots = retrieval.heads * retrieval.k;
    const out = mixExpertsForward(xData, retrieval.gates, retrieval.ids, retrieval.tokens, slots, {
      kernels: this.kernels,
      tables: this.experts,
      activation: this.activationCode,
    });
    return { output: tf.tensor2d(out, [retrieval.tokens, this.baseConfig.dModel]), retrieval };
  }

  /** Expert ids and gates per token and head, [tokens, heads, k] (inference mode). */
  async retrieveAsync(x: tf.Tensor2D, xData?: Float32Array): Promise<PeerRetrieval> {
    const { heads, topK: k } = this.baseConfig;
    const tokens = x.shape[0];
    if (servesSmallBatch(tokens, heads, this.keys.rows, this.keys.cols)) {
      const values = xData ?? ((await x.data()) as Float32Array);
      return { tokens, heads, k, ...this.smallBatch.route(values, tokens) };
    }
    const { gates, ids } = this.route(x, false);
    const gateData = (await gates.data()) as Float32Array;
    gates.dispose();
    return { tokens, heads, k, ids, gates: gateData };
  }

  /** Query -> exact product-key top-k -> softmax gates per head. Gates are token-major [tokens, heads*k]. */
  route(
    x: tf.Tensor2D,
    training: boolean,
  ): { gates: tf.Tensor2D; ids: Int32Array; selection: ExpertSelection } {
    const { heads, topK } = this.baseConfig;
    const tokens = x.shape[0];
    let ids: Int32Array = new Int32Array(0);
    let selection: ExpertSelection | undefined;
    const gates = tf.tidy(() => {
      const [q1, q2] = this.query.apply(x, training);
      const queries = { tokens, heads, q1, q2 };
      selection = retrieveExperts(queries, this.keys, topK, this.kernels, this.heap);
      ids = selection.ids;
      const logits = selectedLogits(queries, this.keys, selection, this.kernels); // [B*H, k]
      // Softmax over each head's k experts; rows are token-major, so this is already [B, H, k].
      return tf.softmax(logits).reshape([tokens, heads * topK]) as tf.Tensor2D; // [B*H, k] -> [B, H*k]
    });
    if (!selection) throw new Error('unreachable: tidy ran synchronously');
    return { gates, ids, selection };
  }

  /** Variables a tfjs optimizer should train (frozen ones excluded). */
  trainableVariables(): tf.Variable[] {
    const probe = this.expertsTrainable ? [this.expertProbe] : [];
    return [...this.query.trainableVariables(), ...this.keys.trainableVariables(), ...probe];
  }

  /** Whether any expert row can still train (growth freezes the old ones). */
  get expertsTrainable(): boolean {
    return this.frozenExperts < this.numExperts;
  }

  /** Frees the tfjs variables and the expert tables. */
  dispose(): void {
    for (const v of this.query.variables()) v.dispose();
    this.query.dispose();
    this.expertProbe.dispose();
    this.smallBatch.dispose();
    this.keys.dispose();
    this.experts.dispose();
  }

  get activationCode(): 0 | 1 {
    return this.baseConfig.activation === 'relu' ? 0 : 1;
  }

  /** Std used for new experts' output weights. */
  get expertOutputStd(): number {
    return this.vStd;
  }
}
