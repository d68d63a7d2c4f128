import * as tf from '@tensorflow/tfjs';
import type { Random } from '../util/random.js';

/** A trainable variable with N(0, std²) entries drawn from `rng` (seeded: models reproduce exactly). */
export function normalVariable<R extends tf.Rank>(rng: Random, shape: number[], std: number): tf.Variable<R> {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = rng.fillNormal(new Float32Array(size), std);
  // Unnamed: tfjs variable names are process-global, and two models of one kind must coexist.
  return tf.tidy(() => tf.variable(tf.tensor<tf.Rank>(values, shape) as tf.Tensor<R>, true));
}

/** A trainable variable filled with `value` (LayerNorm gains and biases). */
export function constantVariable<R extends tf.Rank>(shape: number[], value: number): tf.Variable<R> {
  return tf.tidy(() => tf.variable(tf.fill<tf.Rank>(shape, value) as tf.Tensor<R>, true));
}

/** The trainable subset of `variables` (frozen ones have `trainable = false`). */
export function onlyTrainable(variables: readonly tf.Variable[]): tf.Variable[] {
  return variables.filter((v) => v.trainable);
}
