import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, shutdownBackend } from '../../src/backend/index.js';
import { batchNormTrain } from '../../src/layer/batch-norm-train.js';
import { createRandom } from '../../src/util/random.js';
import { expectClose } from '../kernels/kernel-helpers.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(shutdownBackend);

/** Training-mode BN as tfjs composes it (moments + broadcasts): the reference. */
function composed(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, 0);
  return x
    .sub(mean)
    .mul(tf.rsqrt(variance.add(eps)))
    .mul(gamma)
    .add(beta);
}

describe('batchNormTrain', () => {
  const rng = createRandom(5);
  it.each([
    [2, 3],
    [37, 64],
    [512, 130],
  ])('[%i x %i]: value, batch statistics and gradients equal the tfjs composition', (rows, cols) => {
    const data = rng.fillNormal(new Float32Array(rows * cols), 2);
    for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) + (i % cols) * 0.5; // column offsets
    const x = tf.tensor2d(data, [rows, cols]);
    const gamma = tf.tensor1d(rng.fillNormal(new Float32Array(cols), 1));
    const beta = tf.tensor1d(rng.fillNormal(new Float32Array(cols), 1));
    const weights = tf.tensor2d(rng.fillNormal(new Float32Array(rows * cols), 1), [rows, cols]);
    const eps = 1e-5;
    const before = tf.memory().numTensors;
    const grads = (f: (a: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor2D) =>
      tf.tidy(() => {
        const [dx, dg, db] = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          f(a as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D)
            .mul(weights)
            .sum(),
        )([x, gamma, beta]);
        return [f(x, gamma, beta), dx, dg, db].map((t) => (t as tf.Tensor).dataSync() as Float32Array);
      });
    let stats: { mean: Float32Array; variance: Float32Array } | undefined;
    const got = grads((a, g, b) => {
      const r = batchNormTrain(a, g, b, eps);
      stats = r;
      return r.y;
    });
    expect(tf.memory().numTensors).toBe(before);
    const want = grads((a, g, b) => composed(a, g, b, eps));
    ['y', 'dx', 'dgamma', 'dbeta'].forEach((label, i) => {
      expectClose(got[i] as Float32Array, want[i] as Float32Array, 2e-4, label);
    });
    const { mean, variance } = tf.tidy(() => {
      const m = tf.moments(x, 0);
      return { mean: m.mean.dataSync() as Float32Array, variance: m.variance.dataSync() as Float32Array };
    });
    expectClose(stats?.mean ?? [], mean, 1e-5, 'mean');
    expectClose(stats?.variance ?? [], variance, 1e-4, 'variance');
    tf.dispose([x, gamma, beta, weights]);
  });
});
