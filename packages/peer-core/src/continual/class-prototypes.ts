import * as tf from '@tensorflow/tfjs';
import { PeerConfigError } from '../errors/peer-error.js';
import { kMeans, nearest as nearestCentroid } from '../growth/kmeans.js';
import type { Random } from '../util/random.js';

/** The state of {@link ClassPrototypes} as arrays (centroids [m, dim] row-major; label and stream per row). */
export interface PrototypeSnapshot {
  readonly dim: number;
  readonly perClass: number;
  readonly centroids: Float32Array;
  readonly labels: Int32Array;
  readonly streams: Int32Array;
  readonly squaredSum: number;
  readonly squaredCount: number;
}

/**
 * Per-class prototypes: k-means centroids of each class's training features, added stream by stream. Each
 * centroid is the mean of many training inputs' features (a class-conditional mixture's component means, in
 * the manner of nearest-class-mean and generative classifiers), not a stored example. They stay meaningful
 * only while the feature space is fixed: the raw inputs, or an input projection frozen after the first stream.
 */
export class ClassPrototypes {
  private readonly labels: number[] = [];
  private readonly streams: number[] = [];
  /** [size, dim] row-major; grown once per added class (a few times per stream), read on every prediction. */
  private centroids = new Float32Array(0);
  private squaredSum = 0;
  private squaredCount = 0;

  constructor(
    readonly dim: number,
    readonly perClass: number,
  ) {
    if (!Number.isInteger(perClass) || perClass < 1)
      throw new PeerConfigError('prototypesPerClass', 'an integer >= 1', perClass);
  }

  /** Number of stored centroids. */
  get size(): number {
    return this.labels.length;
  }

  /**
   * Mean squared distance of the sampled training features to their own class's nearest centroid: the scale
   * that makes distances comparable across feature spaces (1 = a typical training input's distance).
   */
  get scale(): number {
    return this.squaredCount === 0 ? 1 : this.squaredSum / this.squaredCount || 1;
  }

  /** The centroids stored for one label (copies), in the order they were added. */
  centroidsOf(label: number): Float32Array[] {
    const out: Float32Array[] = [];
    this.labels.forEach((l, i) => {
      if (l === label) out.push(this.centroids.slice(i * this.dim, (i + 1) * this.dim));
    });
    return out;
  }

  /** Everything needed to rebuild these prototypes, as arrays (see {@link ClassPrototypes.fromSnapshot}). */
  snapshot(): PrototypeSnapshot {
    return {
      dim: this.dim,
      perClass: this.perClass,
      centroids: this.centroids.slice(),
      labels: Int32Array.from(this.labels),
      streams: Int32Array.from(this.streams),
      squaredSum: this.squaredSum,
      squaredCount: this.squaredCount,
    };
  }

  /** Prototypes equal to the ones a snapshot was taken of. */
  static fromSnapshot(s: PrototypeSnapshot): ClassPrototypes {
    const m = s.labels.length;
    if (s.streams.length !== m || s.centroids.length !== m * s.dim) {
      throw new PeerConfigError(
        'snapshot',
        `${m} labels, streams and centroid rows of ${s.dim}`,
        s.centroids.length,
      );
    }
    const out = new ClassPrototypes(s.dim, s.perClass);
    out.labels.push(...s.labels);
    out.streams.push(...s.streams);
    out.centroids = s.centroids.slice();
    out.squaredSum = s.squaredSum;
    out.squaredCount = s.squaredCount;
    return out;
  }

  /** Adds `perClass` centroids of every label's features [n, dim] (n = labels.length), owned by `stream`. */
  add(stream: number, features: Float32Array, labels: Int32Array, rng: Random): void {
    if (features.length !== labels.length * this.dim) {
      throw new PeerConfigError('features', `[${labels.length}, ${this.dim}]`, features.length);
    }
    for (const label of [...new Set(labels)].sort((a, b) => a - b)) {
      const members: number[] = [];
      labels.forEach((y, i) => {
        if (y === label) members.push(i);
      });
      const points = new Float32Array(members.length * this.dim);
      members.forEach((row, i) => {
        points.set(features.subarray(row * this.dim, (row + 1) * this.dim), i * this.dim);
      });
      const clusters = Math.min(this.perClass, members.length);
      const centroids = kMeans(points, this.dim, clusters, rng);
      for (let p = 0; p < members.length; p++) {
        this.squaredSum += nearestCentroid(points, p, centroids, clusters, this.dim).distance;
        this.squaredCount++;
      }
      for (let c = 0; c < clusters; c++) {
        this.labels.push(label);
        this.streams.push(stream);
      }
      const grown = new Float32Array(this.centroids.length + clusters * this.dim);
      grown.set(this.centroids);
      grown.set(centroids.subarray(0, clusters * this.dim), this.centroids.length);
      this.centroids = grown;
    }
  }

  /**
   * For n feature rows [n, dim]: the squared distance of each row to each label's nearest centroid, [n, classes]
   * row-major (+Infinity for labels without centroids), and the stream owning each row's nearest centroid
   * (-1 when there are none).
   */
  async nearest(
    features: Float32Array,
    n: number,
    classes: number,
  ): Promise<{ distances: Float32Array; streams: Int32Array }> {
    const distances = new Float32Array(n * classes).fill(Number.POSITIVE_INFINITY);
    const streams = new Int32Array(n).fill(-1);
    const m = this.size;
    if (m === 0) return { distances, streams };
    const all = tf.tidy(() => {
      const x = tf.tensor2d(features, [n, this.dim]);
      const c = tf.tensor2d(this.centroids, [m, this.dim]);
      // |x|^2 - 2 x.c + |c|^2 as one matmul: [n, dim] x [dim, m] -> [n, m]
      const cross = tf.matMul(x, c.transpose());
      return x
        .square()
        .sum(1, true)
        .sub(cross.mul(2))
        .add(c.square().sum(1).reshape([1, m]));
    });
    let d: Float32Array;
    try {
      d = (await all.data()) as Float32Array;
    } finally {
      all.dispose();
    }
    for (let row = 0; row < n; row++) {
      let best = Number.POSITIVE_INFINITY;
      for (let j = 0; j < m; j++) {
        const v = Math.max(0, d[row * m + j] ?? Number.POSITIVE_INFINITY);
        const at = row * classes + (this.labels[j] ?? 0);
        if (v < (distances[at] ?? Number.POSITIVE_INFINITY)) distances[at] = v;
        if (v < best) {
          best = v;
          streams[row] = this.streams[j] ?? -1;
        }
      }
    }
    return { distances, streams };
  }
}
