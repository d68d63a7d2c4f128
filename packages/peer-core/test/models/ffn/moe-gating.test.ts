import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/index.js';
import { balancingLoss, cvSquared, noisyTopKGating } from '../../../src/models/ffn/moe-gating.js';
import { createRandom } from '../../../src/util/random.js';
import { expectAllClose } from './expect-close.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

/*
 * Tiny case worked by hand: x = [[1,0],[0,1],[1,1]], W_g = [[1,2,0],[0,1,3]] -> clean logits
 * t0 [1,2,0], t1 [0,1,3], t2 [1,3,3] (a tie: the lower id wins). Top-2 and the softmax over the two kept
 * logits: t0 {1: e/(1+e), 0: 1/(1+e)}, t1 {2: e²/(1+e²), 1: 1/(1+e²)}, t2 {1: 1/2, 2: 1/2}.
 * Importance = [0.268941, 1.350262, 1.380797] (sums to 3 tokens); Load (no noise: counts) = [1, 3, 2].
 * CV² = population variance / mean²: importance 0.802136/3 = 0.267379, load (2/3)/4 = 0.166667.
 */
const x = () => tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2]);
const wGate = () => tf.tensor2d([1, 2, 0, 0, 1, 3], [2, 3]);

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('noisyTopKGating without noise', () => {
  it('keeps the top-2 logits (ties to the lower id) and softmaxes over them', () => {
    tf.tidy(() => {
      const g = noisyTopKGating({ x: x(), wGate: wGate(), k: 2 });
      expect(Array.from(g.topIds)).toEqual([1, 0, 2, 1, 1, 2]);
      const e = Math.E;
      const expected = [1 / (1 + e), e / (1 + e), 0, 0, 1 / (1 + e * e), (e * e) / (1 + e * e), 0, 0.5, 0.5];
      expectAllClose(values(g.gates), expected, 6);
      expectAllClose(values(g.importance), [0.268941, 1.350262, 1.380797], 5);
      expect(values(g.load)).toEqual([1, 3, 2]);
    });
  });

  it('gives CV² and the weighted balancing loss of the hand computation', () => {
    tf.tidy(() => {
      const g = noisyTopKGating({ x: x(), wGate: wGate(), k: 2 });
      expect(cvSquared(g.importance).dataSync()[0]).toBeCloseTo(0.267379, 5);
      expect(cvSquared(g.load).dataSync()[0]).toBeCloseTo(1 / 6, 6);
      // 0.5 · 0.267379 + 0.25 · 0.166667
      expect(balancingLoss(g, 0.5, 0.25).dataSync()[0]).toBeCloseTo(0.175356, 5);
    });
  });

  it('is zero for a perfectly balanced importance vector', () => {
    expect(tf.tidy(() => cvSquared(tf.tensor1d([2, 2, 2, 2])).dataSync()[0])).toBe(0);
  });
});

describe('noisyTopKGating with noise (Shazeer et al. 2017 eq. 4, 8–10)', () => {
  /*
   * W_noise = 0 -> noise std softplus(0) = ln 2 everywhere; ε = [[.5,-1,0],[0,0,-2],[1,0,-1]]:
   * H = [[1.346574, 1.306853, 0], [0, 1, 1.613706], [1.693147, 3, 2.306853]] -> top-2 ids [0,1 | 2,1 | 1,2].
   * P(x, i) = Φ((clean_i − threshold) / ln 2), threshold = 3rd largest H for kept experts, 2nd for dropped.
   * Load = [1.029689, 2.893804, 1.999992]; Importance = [0.509929, 1.507952, 0.982119];
   * CV²: importance 0.166168, load 0.148637; 0.5·imp + 0.25·load = 0.120243.
   */
  const noisy = () =>
    noisyTopKGating({
      x: x(),
      wGate: wGate(),
      wNoise: tf.zeros([2, 3]),
      noise: Float32Array.from([0.5, -1, 0, 0, 0, -2, 1, 0, -1]),
      k: 2,
    });

  it('routes on the noisy logits and computes the smooth load by hand', () => {
    tf.tidy(() => {
      const g = noisy();
      expect(Array.from(g.topIds)).toEqual([0, 1, 2, 1, 1, 2]);
      expectAllClose(values(g.importance), [0.509929, 1.507952, 0.982119], 5);
      expectAllClose(values(g.load), [1.029689, 2.893804, 1.999992], 5);
      expect(balancingLoss(g, 0.5, 0.25).dataSync()[0]).toBeCloseTo(0.120243, 5);
    });
  });

  it('rejects k = experts with noise and a wrong noise length', () => {
    expect(() =>
      tf.tidy(() => {
        noisyTopKGating({
          x: x(),
          wGate: wGate(),
          wNoise: tf.zeros([2, 3]),
          noise: new Float32Array(9),
          k: 3,
        });
      }),
    ).toThrow(/'k' must be < experts/);
    expect(() =>
      tf.tidy(() => {
        noisyTopKGating({
          x: x(),
          wGate: wGate(),
          wNoise: tf.zeros([2, 3]),
          noise: new Float32Array(2),
          k: 2,
        });
      }),
    ).toThrow(/noise.length/);
  });

  it('has gradients in W_g and W_noise equal to central finite differences', () => {
    const rng = createRandom(7);
    const [tokens, d, experts] = [6, 3, 4];
    const xs = tf.tensor2d(rng.fillNormal(new Float32Array(tokens * d), 1), [tokens, d]);
    const noise = rng.fillNormal(new Float32Array(tokens * experts), 1);
    const weights = tf.tensor2d(rng.fillNormal(new Float32Array(tokens * experts), 1), [tokens, experts]);
    const g0 = rng.fillNormal(new Float32Array(d * experts), 1);
    const n0 = rng.fillNormal(new Float32Array(d * experts), 0.5);
    // A loss touching the gates, the importance and the smooth load at once.
    const loss = (wg: tf.Tensor, wn: tf.Tensor): tf.Scalar =>
      tf.tidy(() => {
        const g = noisyTopKGating({
          x: xs,
          wGate: wg as tf.Tensor2D,
          wNoise: wn as tf.Tensor2D,
          noise,
          k: 2,
        });
        return g.gates
          .mul(weights)
          .sum()
          .add(balancingLoss(g, 1, 1)) as tf.Scalar;
      });
    const at = (a: Float32Array, b: Float32Array) =>
      tf.tidy(() => loss(tf.tensor2d(a, [d, experts]), tf.tensor2d(b, [d, experts])).dataSync()[0] ?? 0);
    const [dg, dn] = tf.tidy(() =>
      tf
        .grads((a: tf.Tensor, b: tf.Tensor) => loss(a, b))([
          tf.tensor2d(g0, [d, experts]),
          tf.tensor2d(n0, [d, experts]),
        ])
        .map((t) => Array.from(t.dataSync())),
    );
    const eps = 1e-2;
    for (const [which, base, analytic] of [
      ['gate', g0, dg],
      ['noise', n0, dn],
    ] as const) {
      for (let i = 0; i < base.length; i++) {
        const plus = Float32Array.from(base);
        const minus = Float32Array.from(base);
        plus[i] = (plus[i] ?? 0) + eps;
        minus[i] = (minus[i] ?? 0) - eps;
        const fd =
          which === 'gate'
            ? (at(plus, n0) - at(minus, n0)) / (2 * eps)
            : (at(g0, plus) - at(g0, minus)) / (2 * eps);
        expect(Math.abs((analytic?.[i] ?? 0) - fd)).toBeLessThan(5e-3 + 2e-2 * Math.abs(fd));
      }
    }
    tf.dispose([xs, weights]);
  });

  it('leaks no tensors', () => {
    const inputs = [x(), wGate(), tf.zeros([2, 3])] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const noise = Float32Array.from([0.5, -1, 0, 0, 0, -2, 1, 0, -1]);
    const before = tf.memory().numTensors;
    const g = noisyTopKGating({ x: inputs[0], wGate: inputs[1], wNoise: inputs[2], noise, k: 2 });
    tf.dispose([g.gates, g.importance, g.load]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(inputs);
  });
});
