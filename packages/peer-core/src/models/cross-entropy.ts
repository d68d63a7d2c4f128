import * as tf from '@tensorflow/tfjs';
import { PeerShapeError } from '../errors/peer-error.js';

/** Class labels as a plain array or an int32 tensor [n]. */
export type Labels = Int32Array | tf.Tensor1D;

/**
 * Mean softmax cross-entropy in nats of `logits` [n, classes] against integer `labels` [n]:
 * -mean_i log softmax(logits_i)[labels_i]. One-hot labels are built off the tape (they carry no gradient).
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: Labels): tf.Scalar {
  const [n, classes] = logits.shape;
  const count = labels instanceof Int32Array ? labels.length : labels.shape[0];
  if (count !== n) throw new PeerShapeError(`cross-entropy: logits [${logits.shape}] but ${count} labels`);
  return tf.tidy(() => {
    const ids = labels instanceof Int32Array ? tf.tensor1d(labels, 'int32') : labels.toInt();
    const target = tf.oneHot(ids, classes).toFloat(); // [n] -> [n, classes]
    return tf.logSoftmax(logits).mul(target).sum(1).mean().neg() as tf.Scalar;
  });
}
