import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastMatMul, initBackend, shutdownBackend } from '../../src/backend/index.js';
import { NATIVE_MATMUL } from '../../src/backend/native-matmul.js';
import { createRandom } from '../../src/util/random.js';
import { requireNativeAddon, TRANSPOSES } from './native-helpers.js';

// The native product kernel is registered for the cpu backend too (values read and written through the
// backend's own arrays instead of the wasm heap).
describe('fastMatMul on the native kernels, cpu backend', () => {
  beforeAll(async () => {
    requireNativeAddon();
    await initBackend({ backend: 'cpu', log: () => {} });
  });
  afterAll(shutdownBackend);

  it('value and both gradients equal tf.matMul, for every transpose, through the native kernel', async () => {
    const rng = createRandom(3);
    const [m, k, n] = [9, 17, 7];
    const w = tf.randomNormal([m, n], 0, 1, 'float32', 4);
    for (const [ta, tb] of TRANSPOSES) {
      const a = tf.tensor2d(rng.fillNormal(new Float32Array(m * k), 1), ta ? [k, m] : [m, k]);
      const b = tf.tensor2d(rng.fillNormal(new Float32Array(k * n), 1), tb ? [n, k] : [k, n]);
      const run = (mm: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) =>
        tf.tidy(() => {
          const f = (x: tf.Tensor, y: tf.Tensor) =>
            mm(x as tf.Tensor2D, y as tf.Tensor2D)
              .mul(w)
              .sum();
          const [da, db] = tf.grads(f)([a, b]);
          return [mm(a, b), da, db].map((t) => Array.from((t as tf.Tensor).dataSync()));
        });
      const profile = await tf.profile(() => run((x, y) => fastMatMul(x, y, ta, tb)));
      expect(profile.kernels.filter((kn) => kn.name === NATIVE_MATMUL).length).toBe(4); // 2 forwards + dA + dB
      const got = run((x, y) => fastMatMul(x, y, ta, tb));
      const want = run((x, y) => tf.matMul(x, y, ta, tb));
      got.forEach((values, i) => {
        values.forEach((v, j) => {
          expect(v).toBeCloseTo(want[i]?.[j] ?? Number.NaN, 4);
        });
      });
      tf.dispose([a, b]);
    }
    w.dispose();
  });
});
