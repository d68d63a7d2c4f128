import * as tf from '@tensorflow/tfjs';
import type { PeerClassifier } from '../models/classifier.js';
import { softmaxCrossEntropy } from '../models/cross-entropy.js';
import type { Batch } from './scenario.js';

/**
 * Mean cross-entropy of a batch whose examples may belong to different heads (replay mixes tasks): each head's
 * group is scored by its own head and weighted by its share of the batch, so the result is the per-example mean;
 * with `batch.weight` it is the weighted sum sum_i w_i CE_i instead.
 */
export function batchLoss(
  model: PeerClassifier,
  batch: Batch,
  headOf: (task: number) => number,
  training: boolean,
): tf.Scalar {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < batch.size; i++) {
    const head = headOf(batch.task[i] ?? 0);
    const rows = groups.get(head);
    if (rows) rows.push(i);
    else groups.set(head, [i]);
  }
  return tf.tidy(() => {
    let total = tf.scalar(0);
    for (const [head, rows] of groups) {
      const x = new Float32Array(rows.length * batch.dim);
      for (const [i, r] of rows.entries())
        x.set(batch.x.subarray(r * batch.dim, (r + 1) * batch.dim), i * batch.dim);
      const labels = Int32Array.from(rows, (r) => batch.y[r] ?? 0);
      const logits = model.logits(tf.tensor2d(x, [rows.length, batch.dim]), { task: head, training });
      const { weight } = batch;
      if (weight) {
        const w = tf.tensor1d(Float32Array.from(rows, (r) => weight[r] ?? 0));
        const target = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]).toFloat(); // [n, classes]
        total = total.sub(tf.logSoftmax(logits).mul(target).sum(1).mul(w).sum()); // [n] -> []
      } else {
        total = total.add(softmaxCrossEntropy(logits, labels).mul(rows.length / batch.size));
      }
    }
    return total as tf.Scalar;
  });
}
