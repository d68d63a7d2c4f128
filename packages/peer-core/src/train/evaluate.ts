import type * as tf from '@tensorflow/tfjs';
import { PeerConfigError, PeerShapeError } from '../errors/peer-error.js';
import type { PeerRetrieval } from '../layer/peer-layer.js';
import type { ExpertUsage } from '../metrics/expert-usage.js';

/** A model that predicts classes with asynchronous reads, reporting what each PEER layer retrieved. */
export interface AsyncClassifier {
  predictAsync(
    x: tf.Tensor2D,
    options: { task?: number },
  ): Promise<{ classes: Int32Array; retrievals: readonly PeerRetrieval[] }>;
}

/** Options of {@link evaluateAccuracy}. */
export interface AccuracyOptions {
  /** Task head to evaluate (default 0). */
  readonly task?: number;
  /** Rows per forward pass; bounds memory (default 512). */
  readonly batchSize?: number;
  /** One accumulator per PEER layer of the model; each receives that layer's retrievals. */
  readonly usage?: readonly ExpertUsage[];
}

/** Accuracy as a fraction, with the counts it came from. */
export interface AccuracyResult {
  readonly accuracy: number;
  readonly correct: number;
  readonly total: number;
}

/**
 * Accuracy of `model` on inputs x [n, inDim] with labels y [n], in chunks, with asynchronous reads only
 * (usable on request paths). Optionally accumulates expert usage over the same pass.
 */
export async function evaluateAccuracy(
  model: AsyncClassifier,
  x: tf.Tensor2D,
  y: Int32Array | tf.Tensor1D,
  options: AccuracyOptions = {},
): Promise<AccuracyResult> {
  const n = x.shape[0];
  const labels = y instanceof Int32Array ? y : Int32Array.from(await y.data());
  if (labels.length !== n)
    throw new PeerShapeError(`evaluateAccuracy: ${n} inputs but ${labels.length} labels`);
  const batchSize = options.batchSize ?? 512;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new PeerConfigError('batchSize', 'an integer >= 1', batchSize);
  }
  let correct = 0;
  for (let start = 0; start < n; start += batchSize) {
    const rows = Math.min(batchSize, n - start);
    const chunk = x.slice([start, 0], [rows, x.shape[1]]); // [n, dim] -> [rows, dim]
    try {
      const { classes, retrievals } = await model.predictAsync(chunk, { task: options.task ?? 0 });
      for (let i = 0; i < rows; i++) if (classes[i] === labels[start + i]) correct++;
      options.usage?.forEach((usage, layer) => {
        const retrieval = retrievals[layer];
        if (retrieval) usage.add(retrieval);
      });
    } finally {
      chunk.dispose();
    }
  }
  return { accuracy: n === 0 ? Number.NaN : correct / n, correct, total: n };
}
