import * as tf from '@tensorflow/tfjs';
import type { PeerClassifier } from '../models/classifier.js';
import { softmaxCrossEntropy } from '../models/cross-entropy.js';
import type { Batch } from './scenario.js';
import { StepForward } from './step-forward.js';

/**
 * Mean cross-entropy of a batch whose examples may belong to different heads (replay mixes tasks): each head's
 * group is scored by its own head and weighted by its share of the batch, so the result is the per-example mean;
 * with `batch.weight` it is the weighted sum sum_i w_i CE_i instead. The model runs once on the whole batch
 * (through `forward`, when the step shares one with its penalties) and each group reads its rows of its head.
 */
export function batchLoss(
  model: PeerClassifier,
  batch: Batch,
  headOf: (task: number) => number,
  training: boolean,
  forward?: { logits(head: number): tf.Tensor2D },
): tf.Scalar {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < batch.size; i++) {
    const head = headOf(batch.task[i] ?? 0);
    const rows = groups.get(head);
    if (rows) rows.push(i);
    else groups.set(head, [i]);
  }
  // A shared forward's logits must outlive this tidy (the step's penalties read them too): compute them first.
  if (forward) for (const head of groups.keys()) forward.logits(head);
  return tf.tidy(() => {
    const shared = forward ?? new StepForward(model, batch, training);
    let total = tf.scalar(0);
    for (const [head, rows] of groups) {
      const labels = Int32Array.from(rows, (r) => batch.y[r] ?? 0);
      const all = shared.logits(head);
      // One head for the whole batch (domain- and class-IL, or a single task): its logits as they are.
      const logits = rows.length === batch.size ? all : tf.gather(all, tf.tensor1d(rows, 'int32'));
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
