import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../backend/fast-matmul.js';
import type { PeerConfig } from '../config/peer-config.js';
import { DerivedTensorCache } from '../util/derived-tensor-cache.js';
import type { Random } from '../util/random.js';
import { batchNormTrain } from './batch-norm-train.js';

/** One half of the query network: `BN(x W)` for the first (or second) dKey/2 of every head's query. */
class QueryHalf {
  readonly weight: tf.Variable<tf.Rank.R2>;
  readonly gamma: tf.Variable<tf.Rank.R1> | undefined;
  readonly beta: tf.Variable<tf.Rank.R1> | undefined;
  readonly movingMean: tf.Variable<tf.Rank.R1> | undefined;
  readonly movingVariance: tf.Variable<tf.Rank.R1> | undefined;
  /** Inference form: BN folded into the projection, [W * scale, beta - mean * scale]. */
  readonly folded = new DerivedTensorCache<tf.Tensor[]>();

  constructor(config: PeerConfig, rng: Random) {
    const width = (config.heads * config.dKey) / 2;
    const w = rng.fillNormal(new Float32Array(config.dModel * width), 1 / Math.sqrt(config.dModel));
    this.weight = tf.tidy(() => tf.variable(tf.tensor2d(w, [config.dModel, width]), true));
    if (config.queryBatchNorm) {
      this.gamma = tf.tidy(() => tf.variable(tf.ones([width]), true));
      this.beta = tf.tidy(() => tf.variable(tf.zeros([width]), true));
      this.movingMean = tf.tidy(() => tf.variable(tf.zeros([width]), false));
      this.movingVariance = tf.tidy(() => tf.variable(tf.ones([width]), false));
    }
  }

  variables(): tf.Variable[] {
    const all: (tf.Variable | undefined)[] = [
      this.weight,
      this.gamma,
      this.beta,
      this.movingMean,
      this.movingVariance,
    ];
    return all.filter((v): v is tf.Variable => v !== undefined);
  }
}

/**
 * The PEER query network `q = BN(x W_q)` (PEER §2), one query of width dKey per head. It is kept as two
 * halves, one per sub-key codebook: `x W1` is already [tokens, heads * dKey/2] = [tokens * heads, dKey/2] in
 * memory, so the product-key scoring needs no transpose or strided split (each cost ~10 ms at 512 tokens on
 * wasm). Equivalent to one W_q with permuted columns.
 * Query batch-norm (Table 2) trains with batch statistics and serves with running ones; once frozen for
 * growth (DESIGN §2) it always uses running statistics, so routing of old inputs cannot drift through BN.
 */
export class QueryNetwork {
  readonly halves: readonly [QueryHalf, QueryHalf];
  private frozenFlag = false;
  private readonly serving = new DerivedTensorCache<tf.Tensor[]>();

  constructor(
    private readonly config: PeerConfig,
    rng: Random,
  ) {
    this.halves = [new QueryHalf(config, rng), new QueryHalf(config, rng)];
  }

  /** The BN epsilon (for code that folds the running statistics itself). */
  get epsilon(): number {
    return this.config.batchNormEpsilon;
  }

  get frozen(): boolean {
    return this.frozenFlag;
  }

  /** Freezes the projection and the BN (parameters and statistics) so routing of old inputs stays put. */
  freeze(): void {
    this.frozenFlag = true;
    for (const v of this.variables()) v.trainable = false;
  }

  trainableVariables(): tf.Variable[] {
    return this.variables().filter((v) => v.trainable);
  }

  variables(): tf.Variable[] {
    return this.halves.flatMap((h) => h.variables());
  }

  /**
   * The two query halves, each [tokens * heads, dKey/2] (row = token * heads + head). In training mode
   * (and not frozen) BN uses the batch statistics and updates the running ones.
   */
  apply(x: tf.Tensor2D, training: boolean): [tf.Tensor2D, tf.Tensor2D] {
    const half = this.config.dKey / 2;
    const tokens = x.shape[0];
    if (!training) return this.serve(x, tokens * this.config.heads, half);
    const [a, b] = this.halves.map((h) =>
      this.project(h, x, training).reshape([tokens * this.config.heads, half]),
    ); // [B, H*K/2] -> [B*H, K/2]
    return [a as tf.Tensor2D, b as tf.Tensor2D];
  }

  /**
   * Sets the BN running statistics to the exact mean and (biased) variance of `x`'s projections, as
   * training-mode BN computes them (PreciseBN, Wu & Johnson 2021 §4): after a short training the running
   * averages (momentum 0.99) still describe earlier weights, and inference routes with them. Pass a large
   * sample of the layer's training-time inputs. No-op without BN or when frozen (growth keeps old routing).
   */
  recalibrate(x: tf.Tensor2D): void {
    if (this.frozenFlag) return;
    tf.tidy(() => {
      for (const h of this.halves) {
        if (!h.movingMean || !h.movingVariance) continue;
        const { mean, variance } = tf.moments(fastMatMul(x, h.weight), 0); // [tokens, H*K/2] -> [H*K/2]
        h.movingMean.assign(mean as tf.Tensor1D);
        h.movingVariance.assign(variance as tf.Tensor1D);
      }
    });
  }

  /** Releases the cached inference weights (the variables belong to the caller's dispose). */
  dispose(): void {
    for (const h of this.halves) h.folded.dispose();
    this.serving.dispose();
  }

  /**
   * Serving: both halves in one plain matmul and one add, BN folded into the weight (cached until a variable
   * changes). At one token the per-op overhead of tfjs dominates, so fewer ops is what makes it fast.
   */
  private serve(x: tf.Tensor2D, rows: number, half: number): [tf.Tensor2D, tf.Tensor2D] {
    const [weight, shift] = this.serving.get(this.variables(), () => {
      const parts = this.halves.map((h) => this.foldedHalf(h));
      return [
        tf.concat(
          parts.map((p) => p[0]),
          1,
        ),
        tf.concat(parts.map((p) => p[1])),
      ];
    }) as [tf.Tensor2D, tf.Tensor1D];
    const q = fastMatMul(x, weight).add(shift); // [B, d] x [d, 2*H*K/2] -> [B, H*K]
    const [a, b] = tf.split(q, 2, 1);
    return [(a as tf.Tensor2D).reshape([rows, half]), (b as tf.Tensor2D).reshape([rows, half])]; // [B, H*K/2] -> [B*H, K/2]
  }

  /** One half's projection with the running BN statistics folded in: [W * scale, beta - mean * scale]. */
  private foldedHalf(h: QueryHalf): [tf.Tensor2D, tf.Tensor1D] {
    const { gamma, beta, movingMean, movingVariance } = h;
    if (!gamma || !beta || !movingMean || !movingVariance) {
      return [h.weight, tf.zeros([h.weight.shape[1]])];
    }
    const scale = tf.rsqrt(movingVariance.add(this.config.batchNormEpsilon)).mul(gamma);
    return [h.weight.mul(scale), beta.sub(movingMean.mul(scale))];
  }

  private project(h: QueryHalf, x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const { gamma, beta, movingMean, movingVariance } = h;
    const needsParameterGradients = training && !this.frozenFlag;
    if (needsParameterGradients || !gamma || !beta || !movingMean || !movingVariance) {
      return this.normalize(h, fastMatMul(x, h.weight), training);
    }
    // Training with the network frozen (no gradient into it): one matmul and one add with the running
    // statistics folded into the weight, recomputed only when a source variable changes.
    const [weight, shift] = h.folded.get([h.weight, gamma, beta, movingMean, movingVariance], () =>
      this.foldedHalf(h),
    ) as [tf.Tensor2D, tf.Tensor1D];
    return fastMatMul(x, weight).add(shift);
  }

  private normalize(h: QueryHalf, projected: tf.Tensor2D, training: boolean): tf.Tensor2D {
    const { gamma, beta, movingMean, movingVariance } = h;
    if (!gamma || !beta || !movingMean || !movingVariance) return projected;
    const eps = this.config.batchNormEpsilon;
    const useBatchStats = training && !this.frozenFlag && projected.shape[0] > 1;
    if (!useBatchStats) {
      // Fold the running statistics into one scale and shift: two elementwise ops on the hot path.
      const scale = tf.rsqrt(movingVariance.add(eps)).mul(gamma);
      return projected.mul(scale).add(beta.sub(movingMean.mul(scale)));
    }
    const { y, mean, variance } = batchNormTrain(projected, gamma, beta, eps);
    const m = this.config.batchNormMomentum;
    tf.tidy(() => {
      movingMean.assign(movingMean.mul(m).add(tf.tensor1d(mean).mul(1 - m)));
      movingVariance.assign(movingVariance.mul(m).add(tf.tensor1d(variance).mul(1 - m)));
    });
    return y;
  }
}
