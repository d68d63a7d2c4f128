import { nearest } from './kmeans.js';

/**
 * For each new sub-key direction (a k-means centroid of the new stream's query halves), the smallest norm at
 * which it out-scores every old sub-key for `share` of its own cluster's queries.
 *
 * Scores are dot products, so a new key's norm decides how much of the query space it takes: too small and
 * the new data keeps retrieving old experts, too large and old inputs are pulled to the new experts (routing
 * drift, DESIGN §2). For a query q of the cluster, the key u·s (u the unit direction) wins iff
 * s (q·u) > max_i q·K_i; the norm returned is the `share` quantile of max_i q·K_i / (q·u) over the cluster's
 * queries with q·u > 0 — the new stream's data is claimed, and nothing more than that needs. Old data is never
 * consulted (none may be stored): the old keys stand for where old queries go.
 *
 * @param points the new stream's queries [n, dim]; @param centroids [clusters, dim]; @param oldKeys [rows, dim].
 * @returns [clusters] norms; NaN for a cluster with no query pointing its way (the caller picks a fallback).
 */
export function claimingNorms(
  points: Float32Array,
  centroids: Float32Array,
  oldKeys: Float32Array,
  dim: number,
  share: number,
): Float32Array {
  const n = points.length / dim;
  const clusters = centroids.length / dim;
  const oldRows = oldKeys.length / dim;
  const units = centroids.map((_, i) => {
    const c = Math.floor(i / dim);
    const norm = Math.hypot(...centroids.subarray(c * dim, (c + 1) * dim));
    return norm > 0 ? (centroids[i] ?? 0) / norm : 0;
  });
  const ratios: number[][] = Array.from({ length: clusters }, () => []);
  for (let p = 0; p < n; p++) {
    const c = nearest(points, p, centroids, clusters, dim).index;
    const along = dot(points, p, units, c, dim);
    if (!(along > 0)) continue;
    let bestOld = Number.NEGATIVE_INFINITY;
    for (let r = 0; r < oldRows; r++) bestOld = Math.max(bestOld, dot(points, p, oldKeys, r, dim));
    ratios[c]?.push(bestOld / along);
  }
  return Float32Array.from(ratios, (values) => quantile(values, share));
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let sum = 0;
  for (let t = 0; t < dim; t++) sum += (a[i * dim + t] ?? 0) * (b[j * dim + t] ?? 0);
  return sum;
}

/** The q-quantile (nearest rank) of values, NaN when empty. */
function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
