import { PeerConfigError } from '../errors/peer-error.js';
import type { Random } from '../util/random.js';

/**
 * Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007) on row vectors [n, dim].
 * Returns `clusters` centroids [clusters, dim]. When there are fewer distinct points than clusters, the
 * extra centroids are copies of sampled points plus small noise, so every new sub-key still lands where the
 * data is. Deterministic for a given `rng`.
 */
export function kMeans(
  points: Float32Array,
  dim: number,
  clusters: number,
  rng: Random,
  iterations = 10,
): Float32Array {
  const n = points.length / dim;
  if (!Number.isInteger(n) || n < 1) throw new PeerConfigError('points', `a non-empty [n, ${dim}] matrix`, n);
  if (!Number.isInteger(clusters) || clusters < 1) throw new PeerConfigError('clusters', '>= 1', clusters);
  const centroids = seedPlusPlus(points, n, dim, clusters, rng);
  const assignment = new Int32Array(n);
  const sums = new Float64Array(clusters * dim);
  const counts = new Int32Array(clusters);
  for (let iter = 0; iter < iterations; iter++) {
    for (let p = 0; p < n; p++) assignment[p] = nearest(points, p, centroids, clusters, dim).index;
    sums.fill(0);
    counts.fill(0);
    for (let p = 0; p < n; p++) {
      const c = assignment[p] ?? 0;
      counts[c] = (counts[c] ?? 0) + 1;
      for (let j = 0; j < dim; j++) sums[c * dim + j] = (sums[c * dim + j] ?? 0) + (points[p * dim + j] ?? 0);
    }
    for (let c = 0; c < clusters; c++) {
      const count = counts[c] ?? 0;
      if (count === 0) continue; // keep an empty cluster's seed where it was
      for (let j = 0; j < dim; j++) centroids[c * dim + j] = (sums[c * dim + j] ?? 0) / count;
    }
  }
  return centroids;
}

function seedPlusPlus(
  points: Float32Array,
  n: number,
  dim: number,
  clusters: number,
  rng: Random,
): Float32Array {
  const centroids = new Float32Array(clusters * dim);
  const dist = new Float64Array(n).fill(Number.POSITIVE_INFINITY);
  let chosen = rng.int(n);
  let jitter = false;
  for (let c = 0; c < clusters; c++) {
    centroids.set(points.subarray(chosen * dim, (chosen + 1) * dim), c * dim);
    // Fewer distinct points than clusters: nudge the copy so the sub-keys stay distinct.
    if (jitter)
      for (let j = 0; j < dim; j++)
        centroids[c * dim + j] = (centroids[c * dim + j] ?? 0) + rng.normal() * 1e-3;
    let total = 0;
    for (let p = 0; p < n; p++) {
      let d2 = 0;
      for (let j = 0; j < dim; j++) {
        const diff = (points[p * dim + j] ?? 0) - (centroids[c * dim + j] ?? 0);
        d2 += diff * diff;
      }
      if (d2 < (dist[p] ?? 0)) dist[p] = d2;
      total += dist[p] ?? 0;
    }
    jitter = total === 0;
    if (jitter) {
      chosen = rng.int(n);
      continue;
    }
    let target = rng.next() * total;
    chosen = n - 1;
    for (let p = 0; p < n; p++) {
      target -= dist[p] ?? 0;
      if (target <= 0) {
        chosen = p;
        break;
      }
    }
  }
  return centroids;
}

/** The centroid of `centroids` [clusters, dim] nearest to row p of `points` [n, dim], with its squared distance. */
export function nearest(
  points: Float32Array,
  p: number,
  centroids: Float32Array,
  clusters: number,
  dim: number,
): { index: number; distance: number } {
  let best = 0;
  let bestD = Number.POSITIVE_INFINITY;
  for (let c = 0; c < clusters; c++) {
    let d2 = 0;
    for (let j = 0; j < dim; j++) {
      const diff = (points[p * dim + j] ?? 0) - (centroids[c * dim + j] ?? 0);
      d2 += diff * diff;
    }
    if (d2 < bestD) {
      bestD = d2;
      best = c;
    }
  }
  return { index: best, distance: bestD };
}
