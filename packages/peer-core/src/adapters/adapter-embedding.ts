import * as tf from '@tensorflow/tfjs';
import { peerLayerInputs } from '../continual/peer-inputs.js';
import type { PeerClassifier } from '../models/classifier.js';

/**
 * The embedding adapters are keyed and retrieved by, per input row: the first PEER layer's query
 * BN(W_q LN(h)) in inference mode, both halves of every head concatenated ([n, heads * dKey]); for a model
 * without PEER layers, the input projection's output. The query network is frozen once the model grows
 * (DESIGN §2), so keys computed at one version stay comparable at later ones. Computed from base weights only.
 */
export function adapterEmbedding(model: PeerClassifier, x: tf.Tensor2D): tf.Tensor2D {
  const layer = model.peerLayers()[0];
  if (!layer) return model.input.apply(x);
  const [input] = peerLayerInputs(model, x, 1);
  if (!input) return model.input.apply(x);
  return tf.tidy(() => {
    const n = x.shape[0];
    const [q1, q2] = layer.query.apply(input, false); // [n*H, dKey/2] each, row = token * H + head
    input.dispose();
    const width = q1.shape[0] === 0 ? 0 : (q1.shape[0] / n) * q1.shape[1];
    return tf.concat([q1.reshape([n, width]), q2.reshape([n, width])], 1) as tf.Tensor2D; // [n*H, K/2] -> [n, H*K/2] x2 -> [n, H*K]
  });
}

/** The retrieval key of a data set: the mean embedding of its rows, in chunks (asynchronous reads). */
export async function meanEmbedding(
  model: PeerClassifier,
  x: Float32Array,
  rows: number,
  dim: number,
  chunk = 512,
): Promise<Float32Array> {
  let sum: Float64Array | null = null;
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const e = tf.tidy(() =>
      adapterEmbedding(model, tf.tensor2d(x.subarray(start * dim, (start + n) * dim), [n, dim])).sum(0),
    );
    const values = await e.data();
    e.dispose();
    sum ??= new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) sum[i] = (sum[i] ?? 0) + (values[i] ?? 0);
  }
  return Float32Array.from(sum ?? [], (v) => v / Math.max(1, rows));
}
