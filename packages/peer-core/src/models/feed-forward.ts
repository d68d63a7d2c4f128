import * as tf from '@tensorflow/tfjs';
import type { PeerConfig } from '../config/peer-config.js';
import { PeerLayer } from '../layer/peer-layer.js';
import type { Random } from '../util/random.js';
import { Dense } from './dense.js';
import { gelu } from './gelu.js';

/**
 * A token-wise feed-forward sublayer [tokens, d] -> [tokens, d]: the slot in a block where a dense MLP,
 * PEER, or later an MoE, PKM or FFF layer plugs in.
 */
export interface FeedForward {
  /** Differentiable forward; call inside a tidy or a gradient tape. */
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D;
  /** Variables a tfjs optimizer should train (frozen ones excluded). */
  trainableVariables(): tf.Variable[];
  dispose(): void;
  /** PEER layers inside, whose expert tables train through `SparseExpertAdam` rather than tfjs optimizers. */
  peerLayers?(): readonly PeerLayer[];
}

/** The feed-forward kinds models can build from their config. */
export type FeedForwardKind = 'dense' | 'peer';

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

  constructor(config: PeerConfig, seed: number) {
    this.layer = new PeerLayer(config, { seed });
  }

  apply(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return this.layer.apply(x, { training });
  }

  trainableVariables(): tf.Variable[] {
    return this.layer.trainableVariables();
  }

  peerLayers(): readonly PeerLayer[] {
    return [this.layer];
  }

  dispose(): void {
    this.layer.dispose();
  }
}

/** What {@link createFeedForward} needs to build either kind. */
export interface FeedForwardSpec {
  readonly kind: FeedForwardKind;
  readonly dModel: number;
  /** Hidden width of the dense kind. */
  readonly hidden: number;
  /** Layer config of the PEER kind (its dModel must equal `dModel`). */
  readonly peer: PeerConfig;
  readonly rng: Random;
  readonly std?: number;
  readonly outStd?: number;
}

/** Builds a feed-forward sublayer of the given kind; PEER layers get a seed drawn from `rng`. */
export function createFeedForward(spec: FeedForwardSpec): FeedForward {
  if (spec.kind === 'peer') return new PeerFeedForward(spec.peer, spec.rng.int(2 ** 31));
  return new DenseFeedForward(spec.dModel, spec.hidden, spec.rng, spec.std, spec.outStd);
}

/** Every PEER layer inside `ffns`, in order. */
export function collectPeerLayers(ffns: readonly FeedForward[]): PeerLayer[] {
  return ffns.flatMap((f) => (f.peerLayers ? [...f.peerLayers()] : []));
}
