import {
  type AsyncClassifier,
  adaptedLogits,
  type LabeledData,
  type LoraAdapter,
  type PeerClassifier,
} from '@peer/core';
import { tf } from '@peer/core/backend';
import { UsageCounter } from './usage-grid.js';

/** Rows per forward pass of an evaluation: bounds memory on large held-out sets. */
const EVAL_CHUNK = 512;

/**
 * Held-out accuracy of a model on one stream under `head`, accumulating which experts each PEER layer
 * retrieved into `usage` (one counter per layer, in layer order) when given. `model` may be the model itself
 * or how a strategy predicts with it (class prototypes). Asynchronous reads only.
 */
export async function heldOutAccuracy(
  model: AsyncClassifier,
  data: LabeledData,
  head: number,
  usage?: readonly UsageCounter[],
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < data.size; start += EVAL_CHUNK) {
    const n = Math.min(EVAL_CHUNK, data.size - start);
    const x = tf.tensor2d(data.x.subarray(start * data.dim, (start + n) * data.dim), [n, data.dim]);
    try {
      const { classes, retrievals } = await model.predictAsync(x, { task: head });
      for (let i = 0; i < n; i++) if (classes[i] === data.y[start + i]) correct++;
      usage?.forEach((counter, layer) => {
        const retrieval = retrievals[layer];
        if (retrieval) counter.add(retrieval.ids);
      });
    } finally {
      x.dispose();
    }
  }
  return data.size === 0 ? 0 : correct / data.size;
}

/** Held-out accuracy with one adapter applied at full weight (the base model's if `adapter` is null). */
export async function adaptedAccuracy(
  model: PeerClassifier,
  adapter: LoraAdapter | null,
  data: LabeledData,
  head: number,
): Promise<number> {
  let correct = 0;
  for (let start = 0; start < data.size; start += EVAL_CHUNK) {
    const n = Math.min(EVAL_CHUNK, data.size - start);
    const predicted = tf.tidy(() => {
      const x = tf.tensor2d(data.x.subarray(start * data.dim, (start + n) * data.dim), [n, data.dim]);
      const mix = adapter ? { adapters: [adapter], weights: new Float32Array(n).fill(1) } : null;
      return tf.argMax(adaptedLogits(model, x, mix, { task: head, training: false }), 1);
    });
    const classes = await predicted.data();
    predicted.dispose();
    for (let i = 0; i < n; i++) if (classes[i] === data.y[start + i]) correct++;
  }
  return data.size === 0 ? 0 : correct / data.size;
}

/** One usage counter per PEER layer of the model, sized to its active sub-key grid. */
export function usageCounters(model: PeerClassifier): UsageCounter[] {
  return model.peerLayers().map((layer) => new UsageCounter(layer.keys.rows, layer.experts.cols));
}
