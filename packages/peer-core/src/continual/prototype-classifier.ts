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

/**
 * A model's predictions corrected by class prototypes (see {@link PrototypeMode}). Probabilities are
 * corrected too, so the class stays their arg-max: in `product` mode the normalised product
 * p_head(c) · exp(-weight · d_c / scale) over the classes that have prototypes, in `task` mode the head's
 * probabilities renormalised over the inferred stream's classes. Where no class qualifies, the row is the
 * head's own prediction.
 */
export class PrototypeClassifier implements AsyncClassifier {
  constructor(
    readonly model: PeerClassifier,
    readonly prototypes: ClassPrototypes,
    readonly options: PrototypeClassifierOptions,
  ) {}

  async predictAsync(x: tf.Tensor2D, options: { task?: number } = {}): Promise<ClassifierPrediction> {
    if (this.prototypes.size === 0) return this.model.predictAsync(x, options);
    const [prediction, features] = await Promise.all([
      this.model.predictAsync(x, options),
      prototypeFeatures(this.model, x, this.options.space),
    ]);
    return this.combine(prediction, features);
  }

  /**
   * Corrects a prediction of the model's head (plain, or with adapters mixed in) by the prototypes nearest
   * to `features` (one row per input, in the prototypes' space: see {@link prototypeFeatures}).
   */
  async combine(prediction: ClassifierPrediction, features: Float32Array): Promise<ClassifierPrediction> {
    const n = prediction.classes.length;
    if (this.prototypes.size === 0 || n === 0) return prediction;
    const classes = prediction.probabilities.length / n;
    const { distances, streams } = await this.prototypes.nearest(features, n, classes);
    const outClasses = new Int32Array(n);
    const outProbabilities = new Float32Array(n * classes);
    const scale = this.prototypes.scale;
    const scores = new Float64Array(classes);
    for (let row = 0; row < n; row++) {
      const offset = row * classes;
      const allowed =
        this.options.mode === 'task' ? this.options.streamClasses[streams[row] ?? -1] : undefined;
      scores.fill(Number.NEGATIVE_INFINITY);
      for (let c = 0; c < classes; c++) {
        const p = prediction.probabilities[offset + c] ?? 0;
        if (this.options.mode === 'task') {
          if (allowed?.includes(c)) scores[c] = Math.log(p);
        } else {
          const d = distances[offset + c] ?? Number.POSITIVE_INFINITY;
          scores[c] = Math.log(p) - (this.options.weight * d) / scale;
        }
      }
      const best = argMax(scores);
      if (best === undefined) {
        // No class both active and with prototypes (nothing to combine): the head's own answer.
        outClasses[row] = prediction.classes[row] ?? 0;
        outProbabilities.set(prediction.probabilities.subarray(offset, offset + classes), offset);
        continue;
      }
      outClasses[row] = best;
      const top = scores[best] ?? 0;
      let total = 0;
      for (let c = 0; c < classes; c++) total += Math.exp((scores[c] ?? 0) - top);
      for (let c = 0; c < classes; c++)
        outProbabilities[offset + c] = Math.exp((scores[c] ?? 0) - top) / total;
    }
    return { ...prediction, classes: outClasses, probabilities: outProbabilities };
  }
}

/** The index of the highest finite score, the first on ties; undefined when no score is finite. */
function argMax(scores: Float64Array): number | undefined {
  let best: number | undefined;
  let bestValue = Number.NEGATIVE_INFINITY;
  scores.forEach((v, c) => {
    if (v > bestValue) {
      best = c;
      bestValue = v;
    }
  });
  return best;
}
