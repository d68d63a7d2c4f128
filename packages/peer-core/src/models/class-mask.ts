import * as tf from '@tensorflow/tfjs';
import { PeerConfigError } from '../errors/peer-error.js';

/**
 * Added to the logit of an inactive class. Finite (not -Infinity) so that a one-hot target times its
 * log-probability is 0 rather than NaN; exp(-1e9) underflows to 0, so the class gets no probability and no
 * gradient, exactly as if its output unit were removed from the softmax.
 */
export const INACTIVE_LOGIT = -1e9;

/**
 * The additive mask [classes] of an "active classes" head (van de Ven & Tolias 2019, class-IL: only the
 * output units of classes seen so far take part in the softmax): 0 for the listed classes, {@link INACTIVE_LOGIT}
 * for the others. The caller disposes the tensor.
 */
export function classMask(classes: number, active: readonly number[]): tf.Tensor1D {
  const values = new Float32Array(classes).fill(INACTIVE_LOGIT);
  for (const c of active) {
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new PeerConfigError('activeClasses', `integers in [0, ${classes - 1}]`, c);
    }
    values[c] = 0;
  }
  return tf.tensor1d(values);
}
