import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { distillationLoss } from '../../src/continual/lwf.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('distillationLoss (LwF)', () => {
  it('equals T^2 * mean_n sum_c -softmax(t/T)_c log softmax(s/T)_c computed by hand', () => {
    const s = [
      [1, 2, 3],
      [0, 0, 1],
    ];
    const t = [
      [3, 1, 0],
      [1, 1, 1],
    ];
    const T = 2;
    const softmax = (z: number[]) => {
      const e = z.map((v) => Math.exp(v / T));
      const sum = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / sum);
    };
    let expected = 0;
    s.forEach((row, n) => {
      const p = softmax(t[n] ?? []);
      const q = softmax(row);
      expected += -p.reduce((acc, pc, c) => acc + pc * Math.log(q[c] ?? 1), 0) / s.length;
    });
    expected *= T * T;
    const loss = distillationLoss(tf.tensor2d(s), tf.tensor2d(t), T);
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 5);
    // Hand check of the first numbers: the loss exceeds the teacher's own entropy term (KL >= 0).
    const self = distillationLoss(tf.tensor2d(t), tf.tensor2d(t), T);
    expect(loss.dataSync()[0]).toBeGreaterThan(self.dataSync()[0] ?? 0);
    tf.dispose([loss, self]);
  });

  it('rejects a non-positive temperature with a typed error', () => {
    const z = tf.zeros([1, 2]) as tf.Tensor2D;
    expect(() => distillationLoss(z, z, 0)).toThrow(/'temperature' must be > 0, but got 0/);
    z.dispose();
  });
});
