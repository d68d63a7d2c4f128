import { describe, expect, it } from 'vitest';
import { claimingNorms } from '../../src/growth/claiming-norms.js';
import { createRandom } from '../../src/util/random.js';

const dim = 4;

/** Share of a cluster's queries for which key = norm * unit(centroid) out-scores every old key. */
function claimedShare(
  points: Float32Array,
  members: number[],
  unit: number[],
  norm: number,
  old: Float32Array,
) {
  let won = 0;
  for (const p of members) {
    const q = points.subarray(p * dim, (p + 1) * dim);
    const score = norm * q.reduce((a, v, j) => a + v * (unit[j] ?? 0), 0);
    let best = Number.NEGATIVE_INFINITY;
    for (let r = 0; r < old.length / dim; r++) {
      best = Math.max(
        best,
        q.reduce((a, v, j) => a + v * (old[r * dim + j] ?? 0), 0),
      );
    }
    if (score > best || Math.abs(score - best) < 1e-5) won++;
  }
  return won / members.length;
}

describe('claimingNorms', () => {
  it('hand-computed: one cluster on the first axis, one old key on the second', () => {
    // Queries (1, y): along the centroid direction (1, 0) they score s; the old key (0, 2) scores 2y.
    // Ratios 2y / 1 for y = 0.1 ... 1.0 are 0.2 ... 2.0; the 0.5 quantile (nearest rank) is 1.0.
    const ys = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    const points = Float32Array.from(ys.flatMap((y) => [1, y, 0, 0]));
    const centroid = Float32Array.of(3, 0, 0, 0); // only its direction matters
    const old = Float32Array.of(0, 2, 0, 0);
    expect(claimingNorms(points, centroid, old, dim, 0.5)[0]).toBeCloseTo(1.0, 6);
    expect(claimingNorms(points, centroid, old, dim, 1)[0]).toBeCloseTo(2.0, 6);
    expect(claimingNorms(points, centroid, old, dim, 0.1)[0]).toBeCloseTo(0.2, 6);
  });

  it('the returned norm claims the share of its cluster, and any smaller one claims less', () => {
    const rng = createRandom(3);
    const n = 400;
    const points = rng.fillNormal(new Float32Array(n * dim), 1);
    for (let p = 0; p < n; p++) points[p * dim] = (points[p * dim] ?? 0) + (p < n / 2 ? 3 : -3); // two clusters
    const centroids = Float32Array.of(3, 0, 0, 0, -3, 0, 0, 0);
    const old = rng.fillNormal(new Float32Array(5 * dim), 1);
    const norms = claimingNorms(points, centroids, old, dim, 0.8);
    for (const [c, unit] of [
      [0, [1, 0, 0, 0]],
      [1, [-1, 0, 0, 0]],
    ] as const) {
      // Members: nearest centroid, pointing along it (the ones the norm is computed from).
      const members = [...Array(n).keys()].filter((p) => {
        const x = points[p * dim] ?? 0;
        const rest = Array.from(points.subarray(p * dim + 1, (p + 1) * dim));
        const d = (cx: number) => (x - cx) ** 2 + rest.reduce((a, v) => a + v * v, 0);
        return (c === 0 ? d(3) <= d(-3) : d(-3) < d(3)) && x * (unit[0] ?? 0) > 0;
      });
      const norm = norms[c] ?? Number.NaN;
      expect(claimedShare(points, members, [...unit], norm, old)).toBeGreaterThanOrEqual(0.8);
      expect(claimedShare(points, members, [...unit], norm * 0.98, old)).toBeLessThan(0.8);
    }
  });

  it('a cluster with no query pointing its way gets NaN (the caller falls back)', () => {
    const points = Float32Array.of(-1, 0, 0, 0, -2, 0, 0, 0);
    const centroids = Float32Array.of(-1.5, 0, 0, 0, 0, 0, 0, 5); // the second is nobody's nearest
    const norms = claimingNorms(points, centroids, Float32Array.of(1, 1, 1, 1), dim, 0.9);
    expect(norms[0]).toBeCloseTo(-1, 6); // old key points away: any positive norm claims them (caller floors it)
    expect(norms[1]).toBeNaN();
  });
});
