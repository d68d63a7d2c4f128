import * as tf from '@tensorflow/tfjs';
import { PeerConfigError } from '../errors/peer-error.js';
import { kMeans } from '../growth/kmeans.js';
import type { ClassifierPrediction, PeerClassifier } from '../models/classifier.js';
import type { AsyncClassifier } from '../train/evaluate.js';
import type { Random } from '../util/random.js';

/**
 * Per-class prototypes in the model's frozen input features, for inferring an input's task without storing
 * examples. Under freeze-and-grow the input projection is frozen after the first stream, so features computed
 * after any later stream live in one fixed space: `centroids` k-means centroids per class of the projected
 * training inputs (each a mean of many inputs' features, not an example) describe where each class lies,
 * in the manner of exemplar-free nearest-class-mean methods. Which stream taught a class decides which
 * classes the head may choose among.
 */
export class ClassPrototypes {
  private readonly rows: {
    readonly label: number;
    readonly stream: number;
    readonly centroid: Float32Array;
  }[] = [];

  constructor(
    readonly dim: number,
    readonly perClass: number,
  ) {
    if (!Number.isInteger(perClass) || perClass < 1)
      throw new PeerConfigError('prototypesPerClass', 'an integer >= 1', perClass);
  }

  /** Number of stored centroids. */
  get size(): number {
    return this.rows.length;
  }

  /** The centroids stored for one label (copies), in the order they were added. */
  centroidsOf(label: number): Float32Array[] {
    return this.rows.filter((r) => r.label === label).map((r) => r.centroid.slice());
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
      for (let c = 0; c < clusters; c++) {
        this.rows.push({ label, stream, centroid: centroids.slice(c * this.dim, (c + 1) * this.dim) });
      }
    }
  }

  /** The stream whose class has the nearest centroid (squared Euclidean) to one feature row; -1 if empty. */
  nearestStream(features: Float32Array, row: number): number {
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    const offset = row * this.dim;
    for (const { stream, centroid } of this.rows) {
      let d = 0;
      for (let j = 0; j < this.dim; j++) {
        const diff = (features[offset + j] ?? 0) - (centroid[j] ?? 0);
        d += diff * diff;
      }
      if (d < bestDistance) {
        bestDistance = d;
        best = stream;
      }
    }
    return best;
  }
}

/** The input features prototypes are taken in: the input projection's output [n, dModel]. */
export async function inputFeatures(model: PeerClassifier, x: tf.Tensor2D): Promise<Float32Array> {
  const h = tf.tidy(() => model.input.apply(x));
  try {
    return Float32Array.from(await h.data());
  } finally {
    h.dispose();
  }
}

/**
 * Class-IL prediction with the task inferred by {@link ClassPrototypes}: the head's best class among the
 * classes of the stream whose prototype is nearest to the input.
 */
export class PrototypeTaskClassifier implements AsyncClassifier {
  constructor(
    readonly model: PeerClassifier,
    readonly prototypes: ClassPrototypes,
    /** Classes taught by each stream, by stream index. */
    readonly streamClasses: readonly (readonly number[])[],
  ) {}

  async predictAsync(x: tf.Tensor2D, options: { task?: number } = {}): Promise<ClassifierPrediction> {
    const [prediction, features] = await Promise.all([
      this.model.predictAsync(x, options),
      inputFeatures(this.model, x),
    ]);
    const n = x.shape[0];
    const classes = this.model.config.classes;
    const out = new Int32Array(n);
    for (let row = 0; row < n; row++) {
      const allowed = this.streamClasses[this.prototypes.nearestStream(features, row)];
      out[row] = bestClass(prediction.probabilities, row * classes, classes, allowed);
    }
    return { ...prediction, classes: out };
  }
}

/** Arg-max of one row of probabilities over `allowed` classes (every class when undefined). */
function bestClass(
  probabilities: Float32Array,
  offset: number,
  classes: number,
  allowed?: readonly number[],
): number {
  const candidates = allowed ?? Array.from({ length: classes }, (_, c) => c);
  let best = candidates[0] ?? 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (const c of candidates) {
    const p = probabilities[offset + c] ?? Number.NEGATIVE_INFINITY;
    if (p > bestValue) {
      best = c;
      bestValue = p;
    }
  }
  return best;
}
