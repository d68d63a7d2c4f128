import * as tf from '@tensorflow/tfjs';
import type { LabeledData } from '../data/labeled-data.js';
import type { CharTransformer } from '../models/char-transformer.js';
import type { PeerClassifier } from '../models/classifier.js';
import { createRandom } from '../util/random.js';
import { BatchSampler, gatherLabels, gatherRows, sampleWindows } from './batches.js';

/** Batching of an objective. */
export interface ObjectiveOptions {
  /** Examples per step. */
  readonly batchSize: number;
  /** Seed of the batch order (default 0). */
  readonly seed?: number;
}

/**
 * The training loss of a classifier on `data`: each call samples the next seeded mini-batch (without
 * replacement per epoch) and returns the cross-entropy in training mode. Pass it to `Trainer.fit`.
 */
export function classifierObjective(
  model: PeerClassifier,
  data: LabeledData,
  options: ObjectiveOptions & { readonly task?: number },
): () => tf.Scalar {
  const sampler = new BatchSampler(data.size, options.seed ?? 0);
  const task = options.task ?? 0;
  return () => {
    const idx = sampler.next(options.batchSize);
    const x = tf.tensor2d(gatherRows(data.x, data.dim, idx), [idx.length, data.dim]);
    return model.loss(x, gatherLabels(data.y, idx), { task, training: true });
  };
}

/** The training loss of a character LM on random windows of `corpus` (token ids). */
export function languageModelObjective(
  model: CharTransformer,
  corpus: Int32Array,
  options: ObjectiveOptions,
): () => tf.Scalar {
  const rng = createRandom(options.seed ?? 0);
  const length = model.config.contextLength + 1;
  return () => {
    const tokens = sampleWindows(corpus, options.batchSize, length, rng);
    return model.loss({ tokens, batch: options.batchSize }, { training: true });
  };
}
