import * as tf from '@tensorflow/tfjs';
import type { PeerConfig } from '../config/peer-config.js';
import { PeerLayer } from '../layer/peer-layer.js';
import type { ExpertUsage } from '../metrics/expert-usage.js';
import type { Random } from '../util/random.js';
import { readTensorSync } from '../util/read-tensor.js';
import { Dense } from './dense.js';
import { FffFeedForward } from './ffn/fff-feed-forward.js';
import type { FffBlockConfig, MoeBlockConfig, PkmBlockConfig } from './ffn/ffn-configs.js';
import { MoeFeedForward } from './ffn/moe-feed-forward.js';
import { PkmFeedForward } from './ffn/pkm-feed-forward.js';
import { gelu } from './gelu.js';

/**
 * A token-wise feed-forward sublayer [tokens, d] -> [tokens, d]: the slot in a block where a dense MLP,
 * PEER, a sparsely-gated MoE, a product-key memory or a fast feed-forward network plugs in.
 */
export interface FeedForward {
  /** Differentiable forward; call inside a tidy or a gradient tape. */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D;
  /**
   * Forward plus the layer's auxiliary training loss (MoE load balancing, FFF hardening), to be added to the
   * task loss. Kinds without one omit the method.
   */
  applyWithLoss?(x: tf.Tensor2D, training: boolean): { output: tf.Tensor2D; auxLoss: tf.Scalar };
  /** Experts (values, leaves) the layer routes among, for usage metrics; undefined for a dense FFN. */
  readonly numExperts?: number;
  /** While set, inference-mode forwards add the (expert id, gate) pairs they used (Lample et al. 2019 usage). */
  usage?: ExpertUsage | undefined;
  /** Re-estimates query batch-norm statistics from inputs `x` (see `QueryNetwork.recalibrate`); kinds without BN omit it. */
  recalibrate?(x: tf.Tensor2D): void;
  /** Variables a tfjs optimizer should train (frozen ones excluded). */
  trainableVariables(): tf.Variable[];
  dispose(): void;
  /** PEER layers inside, whose expert tables train through `SparseExpertAdam` rather than tfjs optimizers. */
  peerLayers?(): readonly PeerLayer[];
}

/** The feed-forward kinds models can build from their config. */
export type FeedForwardKind = 'dense' | 'peer' | 'moe' | 'pkm' | 'fff';

/** The transformer MLP d -> hidden -> d with GELU (Vaswani et al. 2017; GPT-2's hidden = 4d). */
export class DenseFeedForward implements FeedForward {
  readonly up: Dense;
  readonly down: Dense;

  /**
   * @param std std of the up projection's init
   * @param outStd std of the down projection's init (GPT-2 scales residual outputs by 1/sqrt(2 * layers))
   */
  constructor(dModel: number, hidden: number, rng: Random, std?: number, outStd?: number) {
    this.up = new Dense(dModel, hidden, rng, std === undefined ? {} : { std });
    this.down = new Dense(hidden, dModel, rng, outStd === undefined ? {} : { std: outStd });
  }

  apply(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.down.apply(gelu(this.up.apply(x)))); // [T, d] -> [T, hidden] -> [T, d]
  }

  trainableVariables(): tf.Variable[] {
    return [...this.up.trainableVariables(), ...this.down.trainableVariables()];
  }

  dispose(): void {
    this.up.dispose();
    this.down.dispose();
  }
}

/** A PEER layer (He 2024) in a feed-forward slot. */
export class PeerFeedForward implements FeedForward {
  readonly layer: PeerLayer;
  usage: ExpertUsage | undefined;

  constructor(config: PeerConfig, seed: number) {
    this.layer = new PeerLayer(config, { seed });
  }

  get numExperts(): number {
    return this.layer.numExperts;
  }

  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    if (this.usage && !training) {
      // Metrics only: a second retrieval of the same inference batch (PeerLayer.apply keeps its own).
      const { gates, ids } = this.layer.route(x, false);
      this.usage.add({ ids, gates: Float32Array.from(readTensorSync(gates)) });
      gates.dispose();
    }
    return this.layer.apply(x, { training });
  }

  trainableVariables(): tf.Variable[] {
    return this.layer.trainableVariables();
  }

  peerLayers(): readonly PeerLayer[] {
    return [this.layer];
  }

  recalibrate(x: tf.Tensor2D): void {
    this.layer.query.recalibrate(x);
  }

  dispose(): void {
    this.layer.dispose();
  }
}

/** What {@link createFeedForward} needs to build any kind. */
export interface FeedForwardSpec {
  readonly kind: FeedForwardKind;
  readonly dModel: number;
  /** Hidden width of the dense kind. */
  readonly hidden: number;
  /** Layer config of the PEER kind (its dModel must equal `dModel`). */
  readonly peer: PeerConfig;
  /** Settings of the MoE, PKM and FFF kinds (defaults when omitted). */
  readonly moe?: MoeBlockConfig;
  readonly pkm?: PkmBlockConfig;
  readonly fff?: FffBlockConfig;
  readonly rng: Random;
  readonly std?: number;
  readonly outStd?: number;
}

/** Builds a feed-forward sublayer of the given kind; PEER, PKM and MoE layers get a seed drawn from `rng`. */
export function createFeedForward(spec: FeedForwardSpec): FeedForward {
  const { dModel, rng, std, outStd } = spec;
  switch (spec.kind) {
    case 'peer':
      return new PeerFeedForward(spec.peer, rng.int(2 ** 31));
    case 'moe':
      return new MoeFeedForward(dModel, spec.moe ?? {}, { rng, seed: rng.int(2 ** 31), std, outStd });
    case 'pkm':
      return new PkmFeedForward(dModel, spec.pkm ?? {}, { seed: rng.int(2 ** 31) });
    case 'fff':
      return new FffFeedForward(dModel, spec.fff ?? {}, { rng, std, outStd });
    default:
      return new DenseFeedForward(dModel, spec.hidden, rng, std, outStd);
  }
}

/** Every PEER layer inside `ffns`, in order. */
export function collectPeerLayers(ffns: readonly FeedForward[]): PeerLayer[] {
  return ffns.flatMap((f) => (f.peerLayers ? [...f.peerLayers()] : []));
}
