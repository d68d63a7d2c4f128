import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../../backend/fast-matmul.js';
import { PeerConfigError } from '../../errors/peer-error.js';
import { readTensorSync } from '../../util/read-tensor.js';

/** What the noisy top-k gate of a batch decided. */
export interface MoeGating {
  /** Gates [tokens, experts]: softmax over each token's top-k logits, exactly 0 elsewhere. Differentiable. */
  readonly gates: tf.Tensor2D;
  /** The chosen experts [tokens, k], by descending logit (ties: lower expert id first). */
  readonly topIds: Int32Array;
  /** Importance(X) = sum over tokens of the gates, [experts] (Shazeer et al. 2017 eq. 6). */
  readonly importance: tf.Tensor1D;
  /**
   * Load(X) [experts]: with noise, sum over tokens of P(x, i), the smooth probability that expert i stays in
   * the top k under a fresh draw of its own noise (eq. 8–10); without noise, the count of tokens routed to i.
   */
  readonly load: tf.Tensor1D;
}

/** Inputs of {@link noisyTopKGating}. */
export interface GatingInputs {
  /** Router input [tokens, d]. */
  readonly x: tf.Tensor2D;
  /** W_g [d, experts]. */
  readonly wGate: tf.Tensor2D;
  /** W_noise [d, experts]; omit for plain (noise-free) top-k softmax gating. */
  readonly wNoise?: tf.Tensor2D;
  /** Standard-normal draws [tokens * experts] (seeded by the caller); required with `wNoise`. */
  readonly noise?: Float32Array;
  readonly k: number;
}

/**
 * Noisy top-k gating (Shazeer et al. 2017 §2.1): H(x) = x W_g + ε · softplus(x W_noise), ε ~ N(0, 1);
 * G(x) = softmax(KeepTopK(H(x), k)) — a softmax over the k kept logits, as Mixtral and Grok-1 route (top-2).
 * Top-k indices are computed outside the tape (they carry no gradient); the gates are differentiable in the
 * kept logits, and the smooth load in W_g, W_noise and the thresholds (as in tensor2tensor's `noisy_top_k_gating`).
 *
 * @example const { gates, topIds } = noisyTopKGating({ x, wGate, k: 2 });
 */
export function noisyTopKGating(inputs: GatingInputs): MoeGating {
  const { x, wGate, wNoise, noise, k } = inputs;
  const [tokens] = x.shape;
  const experts = wGate.shape[1];
  if (!Number.isInteger(k) || k < 1 || k > experts) {
    throw new PeerConfigError('k', `an integer in [1, experts (${experts})]`, k);
  }
  if (wNoise && k >= experts) {
    throw new PeerConfigError(
      'k',
      `< experts (${experts}) with noisy gating (the load needs the (k+1)-th logit)`,
      k,
    );
  }
  if (wNoise && noise?.length !== tokens * experts) {
    throw new PeerConfigError('noise.length', `tokens * experts (${tokens * experts})`, noise?.length);
  }
  let topIds = new Int32Array(0);
  const result = tf.tidy(() => {
    const clean = fastMatMul(x, wGate); // [T, d] x [d, E] -> [T, E]
    const noiseStd = wNoise ? tf.softplus(fastMatMul(x, wNoise)) : undefined; // [T, E]
    const logits: tf.Tensor2D =
      noiseStd && noise ? clean.add(tf.tensor2d(noise, [tokens, experts]).mul(noiseStd)) : clean;
    const values = Float32Array.from(readTensorSync(logits));
    const order = rankRows(values, tokens, experts, Math.min(k + 1, experts));
    topIds = new Int32Array(tokens * k);
    const mask = new Float32Array(tokens * experts);
    for (let t = 0; t < tokens; t++)
      for (let j = 0; j < k; j++) {
        const e = order[t * Math.min(k + 1, experts) + j] ?? 0;
        topIds[t * k + j] = e;
        mask[t * experts + e] = 1;
      }
    const keep = tf.tensor2d(mask, [tokens, experts]).cast('bool') as tf.Tensor2D;
    // Dropped logits become -1e30: exp underflows to exactly 0 and, unlike -Infinity, no NaN can appear.
    const gates = tf.softmax(tf.where(keep, logits, tf.fill([tokens, experts], -1e30))) as tf.Tensor2D;
    const importance = gates.sum(0) as tf.Tensor1D;
    const load =
      noiseStd && wNoise
        ? smoothLoad(clean, logits, noiseStd, keep, order, tokens, experts, k)
        : (tf.tensor2d(mask, [tokens, experts]).sum(0) as tf.Tensor1D);
    return { gates, importance, load };
  });
  return { ...result, topIds };
}

/**
 * Σ_x P(x, i) with P(x, i) = Φ((x W_g)_i − kth_excluding(H(x), k, i)) / softplus((x W_noise)_i)) (eq. 9–10):
 * the threshold is the (k+1)-th largest noisy logit for a kept expert, the k-th for a dropped one.
 */
function smoothLoad(
  clean: tf.Tensor2D,
  noisy: tf.Tensor2D,
  noiseStd: tf.Tensor2D,
  keep: tf.Tensor2D,
  order: Int32Array,
  tokens: number,
  experts: number,
  k: number,
): tf.Tensor1D {
  const kthIndex = new Int32Array(tokens);
  const nextIndex = new Int32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    kthIndex[t] = t * experts + (order[t * (k + 1) + k - 1] ?? 0);
    nextIndex[t] = t * experts + (order[t * (k + 1) + k] ?? 0);
  }
  const flat = noisy.reshape([tokens * experts]); // [T, E] -> [T*E]
  const ifIn = tf.gather(flat, tf.tensor1d(nextIndex, 'int32')).reshape([tokens, 1]); // [T] -> [T, 1]
  const ifOut = tf.gather(flat, tf.tensor1d(kthIndex, 'int32')).reshape([tokens, 1]);
  const threshold = tf.where(keep, ifIn.tile([1, experts]), ifOut.tile([1, experts]));
  const z = clean.sub(threshold).div(noiseStd);
  const probability = tf.erf(z.div(Math.SQRT2)).add(1).mul(0.5); // standard normal CDF Φ(z)
  return probability.sum(0) as tf.Tensor1D;
}

/**
 * CV(v)² = Var(v) / (mean(v)² + 1e-10), population variance (tensor2tensor's `cv_squared`, the form of the
 * importance and load losses, Shazeer et al. 2017 eq. 7 and 11).
 */
export function cvSquared(v: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(v);
    return variance.div(mean.square().add(1e-10)) as tf.Scalar;
  });
}

/** w_importance · CV(Importance)² + w_load · CV(Load)²: the auxiliary balancing loss of one MoE layer. */
export function balancingLoss(gating: MoeGating, importanceWeight: number, loadWeight: number): tf.Scalar {
  return tf.tidy(() =>
    cvSquared(gating.importance).mul(importanceWeight).add(cvSquared(gating.load).mul(loadWeight)),
  );
}

/** Per row, the indices of the `m` largest values, descending; ties go to the lower index. */
function rankRows(values: Float32Array, rows: number, cols: number, m: number): Int32Array {
  const out = new Int32Array(rows * m);
  const idx = new Int32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) idx[c] = c;
    const base = r * cols;
    const sorted = Array.from(idx).sort((a, b) => {
      const d = (values[base + b] ?? 0) - (values[base + a] ?? 0);
      return d !== 0 ? d : a - b;
    });
    for (let j = 0; j < m; j++) out[r * m + j] = sorted[j] ?? 0;
  }
  return out;
}
