import * as tf from '@tensorflow/tfjs';
import type { ClassifierPrediction, PeerClassifier } from '../models/classifier.js';
import type { AsyncClassifier } from '../train/evaluate.js';
import type { ClassPrototypes } from './class-prototypes.js';

/** Where prototypes live: the raw inputs, or the model's input projection (frozen after the first stream). */
export type PrototypeSpace = 'input' | 'projection';

/**
 * How prototypes join the head's prediction:
 * - `task`: the stream owning the nearest prototype is taken as the input's task, and the head's best class
 *   among that stream's classes is the answer (class-IL task inference);
 * - `product`: every class is scored log p_head(c | x) - weight * d_c(x) / scale, d_c the squared distance to
 *   class c's nearest prototype and `scale` the prototypes' typical training distance: a product of the
 *   discriminative head and a prototype (nearest-mixture-component) likelihood, which corrects the head's
 *   bias towards recent classes where the prototypes disagree.
 */
export type PrototypeMode = 'task' | 'product';

/** The features prototypes are taken in, [n, dim] row-major. */
export async function prototypeFeatures(
  model: PeerClassifier,
  x: tf.Tensor2D,
  space: PrototypeSpace,
): Promise<Float32Array> {
  if (space === 'input') return Float32Array.from(await x.data());
  const h = tf.tidy(() => model.input.apply(x));
  try {
    return Float32Array.from(await h.data());
  } finally {
    h.dispose();
  }
}

/** Options of {@link PrototypeClassifier}. */
export interface PrototypeClassifierOptions {
  readonly mode: PrototypeMode;
  readonly space: PrototypeSpace;
  /** Weight of the prototype term in `product` mode. */
  readonly weight: number;
  /** Classes taught by each stream, by stream index (`task` mode). */
  readonly streamClasses: readonly (readonly number[])[];
}

/** A model's predictions corrected by class prototypes (see {@link PrototypeMode}). */
export class PrototypeClassifier implements AsyncClassifier {
  constructor(
    readonly model: PeerClassifier,
    readonly prototypes: ClassPrototypes,
    readonly options: PrototypeClassifierOptions,
  ) {}

  async predictAsync(x: tf.Tensor2D, options: { task?: number } = {}): Promise<ClassifierPrediction> {
    if (this.prototypes.size === 0) return this.model.predictAsync(x, options);
    const n = x.shape[0];
    const classes = this.model.config.classes;
    const [prediction, features] = await Promise.all([
      this.model.predictAsync(x, options),
      prototypeFeatures(this.model, x, this.options.space),
    ]);
    const { distances, streams } = await this.prototypes.nearest(features, n, classes);
    const out = new Int32Array(n);
    const scale = this.prototypes.scale;
    for (let row = 0; row < n; row++) {
      const offset = row * classes;
      if (this.options.mode === 'task') {
        const allowed = this.options.streamClasses[streams[row] ?? -1];
        out[row] =
          argMax(classes, allowed, (c) => prediction.probabilities[offset + c] ?? 0) ??
          prediction.classes[row] ??
          0;
      } else {
        const best = argMax(classes, undefined, (c) => {
          const d = distances[offset + c] ?? Number.POSITIVE_INFINITY;
          const p = prediction.probabilities[offset + c] ?? 0;
          return Math.log(p) - (this.options.weight * d) / scale;
        });
        // No class both active and with prototypes (nothing to combine): the head's own answer.
        out[row] = best ?? prediction.classes[row] ?? 0;
      }
    }
    return { ...prediction, classes: out };
  }
}

/**
 * The class in `allowed` (every class when undefined) with the highest finite score, the first on ties;
 * undefined when no score is finite.
 */
function argMax(
  classes: number,
  allowed: readonly number[] | undefined,
  score: (c: number) => number,
): number | undefined {
  const candidates = allowed ?? Array.from({ length: classes }, (_, c) => c);
  let best: number | undefined;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (const c of candidates) {
    const v = score(c);
    if (v > bestValue) {
      best = c;
      bestValue = v;
    }
  }
  return best;
}
