import * as tf from '@tensorflow/tfjs';
import type { PeerClassifier } from '../models/classifier.js';
import { PeerFeedForward } from '../models/feed-forward.js';

/**
 * What each PEER block of a classifier receives for inputs x [n, inDim] (inference mode): LN(h) before the
 * block, [n, dModel] per PEER block in block order. Growth needs these, not the raw inputs: new sub-keys are
 * placed where the *layer's* queries of the new data land. The caller disposes the tensors.
 */
export function peerLayerInputs(
  model: PeerClassifier,
  x: tf.Tensor2D,
  upTo = Number.POSITIVE_INFINITY,
): tf.Tensor2D[] {
  const out: tf.Tensor2D[] = [];
  tf.tidy(() => {
    let h = model.input.apply(x); // [n, inDim] -> [n, d]
    for (const { norm, ffn } of model.blocks) {
      if (out.length >= upTo) break;
      const normed = norm.apply(h);
      if (ffn instanceof PeerFeedForward) out.push(tf.keep(normed));
      h = h.add(ffn.apply(normed, false));
    }
  });
  return out;
}
