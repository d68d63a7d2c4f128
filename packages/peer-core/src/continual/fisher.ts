import * as tf from '@tensorflow/tfjs';
import type { LabeledData } from '../data/labeled-data.js';
import { PeerConfigError, PeerError } from '../errors/peer-error.js';
import type { PeerLayer } from '../layer/peer-layer.js';
import { coalesceExpertGradients } from '../train/coalesce-expert-gradients.js';
import { createRandom, type Random } from '../util/random.js';
import { readTensorSync } from '../util/read-tensor.js';

/** What Fisher estimation needs of a model (a `PeerClassifier` is one). */
export interface FisherModel {
  logits(x: tf.Tensor2D, options: { task?: number; training?: boolean }): tf.Tensor2D;
  trainableVariables(): tf.Variable[];
  peerLayers(): readonly PeerLayer[];
}

/** Settings of {@link diagonalFisher}. */
export interface FisherOptions {
  /** Examples to average over (all of `data` when it has fewer). */
  readonly samples: number;
  /**
   * `'sample'`: labels drawn from the model's own predictive distribution, which gives the true Fisher
   * information E_x E_{y~p(y|x)} [grad log p(y|x)^2] that EWC's Laplace argument needs (Kirkpatrick et al. 2017;
   * Martens 2020 §11 on why the "empirical Fisher" differs). `'true'`: the data's labels (empirical Fisher).
   */
  readonly labels: 'sample' | 'true';
  /** Head the examples are scored with. */
  readonly head: number;
  readonly seed: number;
}

/** A diagonal Fisher: per trainable variable, and per PEER layer over its active expert rows [numExperts*d]. */
export interface FisherDiagonal {
  readonly variables: Map<tf.Variable, Float32Array>;
  readonly experts: Map<PeerLayer, { readonly u: Float32Array; readonly v: Float32Array }>;
  readonly samples: number;
}

/**
 * The diagonal of the Fisher information, F_i = (1/N) sum_n (d log p(y_n | x_n) / d theta_i)^2, from one
 * backward pass per example (batch size 1: the square of a batch-mean gradient would not be the mean of squares).
 * Covers the trainable variables and the expert rows (through the factored gradients the PEER layers emit).
 * Batch-norm uses its running statistics at batch size 1, so estimation does not disturb them.
 */
export function diagonalFisher(
  model: FisherModel,
  data: LabeledData,
  options: FisherOptions,
): FisherDiagonal {
  if (!Number.isInteger(options.samples) || options.samples < 1) {
    throw new PeerConfigError('samples', 'an integer >= 1', options.samples);
  }
  const variables = model.trainableVariables();
  if (variables.length === 0)
    throw new PeerError('nothing_to_train', 'Fisher: the model has no trainable variables');
  const layers = model.peerLayers();
  const rng = createRandom(options.seed);
  const rows = pickRows(data.size, Math.min(options.samples, data.size), rng);
  const sums = new Map(variables.map((v) => [v, new Float32Array(v.size)]));
  const experts = new Map(
    layers.map((l) => [
      l,
      { u: new Float32Array(l.numExperts * l.experts.d), v: new Float32Array(l.numExperts * l.experts.d) },
    ]),
  );
  const slotOf = new Map(
    layers.map((l) => [l, new Int32Array(l.experts.capacityRows * l.experts.cols).fill(-1)]),
  );
  for (const layer of layers) layer.gradients.drain();
  for (const r of rows) {
    tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(r * data.dim, (r + 1) * data.dim), [1, data.dim]);
      const { grads } = tf.variableGrads(() => {
        const logProbs = tf.logSoftmax(model.logits(x, { task: options.head, training: true })); // [1, classes]
        const label =
          options.labels === 'true'
            ? (data.y[r] ?? 0)
            : sampleLabel(Float32Array.from(readTensorSync(logProbs)), rng);
        return logProbs
          .mul(tf.oneHot(tf.tensor1d([label], 'int32'), logProbs.shape[1]))
          .sum()
          .neg() as tf.Scalar;
      }, variables);
      for (const v of variables) {
        const g = grads[v.name];
        const sum = sums.get(v);
        if (!g || !sum) continue;
        const values = readTensorSync(g);
        for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) + (values[i] ?? 0) ** 2;
      }
    });
    for (const layer of layers) accumulateExperts(layer, experts.get(layer), slotOf.get(layer));
  }
  const n = rows.length;
  for (const sum of sums.values()) for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) / n;
  for (const { u, v } of experts.values()) {
    for (let i = 0; i < u.length; i++) {
      u[i] = (u[i] ?? 0) / n;
      v[i] = (v[i] ?? 0) / n;
    }
  }
  return { variables: sums, experts, samples: n };
}

/** Adds the squared per-expert gradient rows of the last backward pass to the running sums. */
function accumulateExperts(
  layer: PeerLayer,
  target: { u: Float32Array; v: Float32Array } | undefined,
  slotOf: Int32Array | undefined,
): void {
  const parts = layer.gradients.drain();
  if (!target || !slotOf || parts.length === 0) return;
  const d = layer.experts.d;
  const g = coalesceExpertGradients(parts, layer.kernels, d, 0, slotOf);
  g.ids.forEach((id, row) => {
    if (id * d >= target.u.length) return;
    for (let c = 0; c < d; c++) {
      target.u[id * d + c] = (target.u[id * d + c] ?? 0) + (g.gradU[row * d + c] ?? 0) ** 2;
      target.v[id * d + c] = (target.v[id * d + c] ?? 0) + (g.gradV[row * d + c] ?? 0) ** 2;
    }
  });
}

/** A label drawn from softmax probabilities given as log-probabilities of one row. */
function sampleLabel(logProbs: Float32Array, rng: Random): number {
  let u = rng.next();
  for (let c = 0; c < logProbs.length; c++) {
    u -= Math.exp(logProbs[c] ?? Number.NEGATIVE_INFINITY);
    if (u < 0) return c;
  }
  return logProbs.length - 1;
}

/** `count` distinct row indices of [0, size), seeded (partial Fisher–Yates). */
export function pickRows(size: number, count: number, rng: Random): Int32Array {
  const order = Int32Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(size - i);
    const t = order[i] ?? 0;
    order[i] = order[j] ?? 0;
    order[j] = t;
  }
  return order.slice(0, count);
}
