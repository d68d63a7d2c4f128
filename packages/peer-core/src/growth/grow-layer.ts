import * as tf from '@tensorflow/tfjs';
import { PeerConfigError } from '../errors/peer-error.js';
import type { PeerLayer } from '../layer/peer-layer.js';
import { readTensorSync } from '../util/read-tensor.js';
import { claimingNorms } from './claiming-norms.js';
import { kMeans } from './kmeans.js';

export interface GrowOptions {
  /** Sub-key rows to append; adds `rows * cols` experts. */
  readonly rows: number;
  /**
   * Inputs of the new stream [n, dModel]: new sub-keys become k-means centroids of their first query halves,
   * so the new experts are retrieved where the new data's queries land (DESIGN §2). Without a sample the new
   * sub-keys are random.
   */
  readonly sample?: tf.Tensor2D;
  /** Freeze the query network, BN statistics, old sub-keys and old experts first (default true). */
  readonly freezeOld?: boolean;
  /** Std of the new experts' output weights (default: the layer's); 0 makes them start silent. */
  readonly expertOutputStd?: number;
  /**
   * Keep the new sub-keys where they were placed (default false here: they train with the new experts; the
   * `FreezeAndGrowPlugin` turns it on). Trained new keys follow the gradient of the new data only, and nothing
   * stops them from also winning old inputs' top-k (routing drift); fixed keys change old inputs' retrieval
   * only as much as the placement did.
   */
  readonly freezeNewKeys?: boolean;
  /**
   * Size each new sub-key to claim this share of its k-means cluster's queries from the old sub-keys (see
   * `claimingNorms`), instead of giving every new key the old keys' mean norm (the default). Needs `sample`.
   */
  readonly claimShare?: number;
}

/**
 * Grows a PEER layer by `rows` sub-key rows without retraining the router: cost O(rows * (cols * d +
 * sample k-means)), independent of the current pool size (expert tables are preallocated at capacity).
 * Returns the new expert id range [from, to).
 */
export function growLayer(layer: PeerLayer, options: GrowOptions): { from: number; to: number } {
  const { rows } = options;
  const capacity = layer.experts.capacityRows;
  if (!Number.isInteger(rows) || rows < 1) throw new PeerConfigError('rows', 'an integer >= 1', rows);
  if (layer.keys.rows + rows > capacity) {
    throw new PeerConfigError(
      'rows',
      `<= ${capacity - layer.keys.rows} (capacityRows ${capacity} minus active rows)`,
      rows,
    );
  }
  const width = options.sample?.shape[1];
  if (width !== undefined && width !== layer.config.dModel) {
    throw new PeerConfigError(
      'sample',
      `[n, ${layer.config.dModel}] (the layer's inputs)`,
      options.sample?.shape,
    );
  }
  if (options.freezeOld ?? true) {
    layer.query.freeze();
    layer.keys.freezeAll();
    layer.frozenExperts = layer.numExperts;
  }
  const { claimShare } = options;
  if (claimShare !== undefined && !(claimShare > 0 && claimShare <= 1)) {
    throw new PeerConfigError('claimShare', 'a share in (0, 1]', claimShare);
  }
  const keyValues = options.sample
    ? centroidKeys(layer, options.sample, rows, claimShare)
    : randomKeys(layer, rows);
  const appended = layer.keys.appendRows(keyValues, rows);
  if (options.freezeNewKeys) appended.trainable = false;
  const { from, to } = layer.experts.appendRows(rows);
  layer.experts.initRows(from, to, layer.rng, options.expertOutputStd ?? layer.expertOutputStd);
  const cols = layer.experts.cols;
  return { from: from * cols, to: to * cols };
}

/**
 * [keyHeads, rows, half] k-means centroids of the sample's first query halves, per key head, rescaled to the
 * mean norm of the existing sub-keys, or with `claimShare` to their claiming norms. Scores are dot products,
 * so a raw centroid of large new queries would out-score old keys for *old* inputs too (routing drift); at
 * the old keys' scale a new key wins only for queries pointing its way.
 */
function centroidKeys(
  layer: PeerLayer,
  sample: tf.Tensor2D,
  rows: number,
  claimShare: number | undefined,
): Float32Array {
  const { heads } = layer.config;
  const { keyHeads, half } = layer.keys;
  const q1 = tf.tidy(() => layer.query.apply(sample, false)[0]); // [n*H, half], row = token * H + head
  const all = Float32Array.from(readTensorSync(q1));
  q1.dispose();
  const tokens = all.length / (heads * half);
  const oldKeys = layer.keys.rowKeys();
  const old = Float32Array.from(readTensorSync(oldKeys)); // [KH, rows, half]
  if (oldKeys !== layer.keys.segments[0]) oldKeys.dispose();
  const out = new Float32Array(keyHeads * rows * half);
  for (let kh = 0; kh < keyHeads; kh++) {
    const points = keyHeads === 1 ? all : queriesOfHead(all, tokens, heads, kh, half);
    const centroids = kMeans(points, half, rows, layer.rng);
    const oldOfHead = old.subarray((kh * old.length) / keyHeads, ((kh + 1) * old.length) / keyHeads);
    const scale = meanRowNorm(oldOfHead, half);
    const norms =
      claimShare === undefined ? undefined : claimingNorms(points, centroids, oldOfHead, half, claimShare);
    for (let r = 0; r < rows; r++) {
      // A cluster no query points along keeps the mean norm; a tiny floor keeps every key a direction.
      const claim = norms?.[r];
      const norm = claim === undefined || Number.isNaN(claim) ? scale : Math.max(claim, 0.05 * scale);
      rescaleRow(centroids.subarray(r * half, (r + 1) * half), norm);
    }
    out.set(centroids, kh * rows * half);
  }
  return out;
}

/** The rows of one head in token-major queries [tokens * heads, half]. */
function queriesOfHead(
  all: Float32Array,
  tokens: number,
  heads: number,
  head: number,
  half: number,
): Float32Array {
  const out = new Float32Array(tokens * half);
  for (let b = 0; b < tokens; b++) {
    const src = (b * heads + head) * half;
    out.set(all.subarray(src, src + half), b * half);
  }
  return out;
}

function meanRowNorm(rowsData: Float32Array, width: number): number {
  const n = rowsData.length / width;
  let total = 0;
  for (let r = 0; r < n; r++) total += Math.hypot(...rowsData.subarray(r * width, (r + 1) * width));
  return total / n;
}

function rescaleRow(row: Float32Array, norm: number): void {
  const current = Math.hypot(...row);
  if (current === 0) return;
  for (let i = 0; i < row.length; i++) row[i] = ((row[i] ?? 0) * norm) / current;
}

function randomKeys(layer: PeerLayer, rows: number): Float32Array {
  const { keyHeads, half } = layer.keys;
  const bound = 1 / Math.sqrt(half);
  return layer.rng.fillUniform(new Float32Array(keyHeads * rows * half), -bound, bound);
}
