import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { PeerShapeError } from '../../src/errors/peer-error.js';
import { DenseAdam } from '../../src/train/dense-adam.js';
import { TfjsAdam } from '../../src/train/tfjs-adam.js';
import { createRandom } from '../../src/util/random.js';
import { requireNativeAddon } from '../kernels/native-helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const options = { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const random = (n: number, seed: number) => {
  const rng = createRandom(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
};
const native = () => new DenseAdam(options, requireNativeAddon());

describe('DenseAdam (native) and TfjsAdam', () => {
  it('DenseAdam follows tf.train.adam step for step over shapes and changing gradients', () => {
    const shapes = [[5, 7], [13], [1], [3, 8]]; // 35 and 13 values leave a scalar tail after blocks of 8
    const ours = shapes.map((s, i) =>
      tf.variable(
        tf.tensor(
          random(
            s.reduce((a, b) => a * b),
            i,
          ),
          s,
        ),
      ),
    );
    const theirs = ours.map((v) => tf.variable(v.clone()));
    const adam = native();
    const reference = new TfjsAdam(options);
    for (let step = 0; step < 6; step++) {
      ours.forEach((v, i) => {
        const g = tf.tensor(random(v.size, 100 * step + i), v.shape);
        tf.tidy(() => adam.apply(v, g));
        tf.tidy(() => reference.apply(theirs[i] as tf.Variable, g));
        g.dispose();
      });
    }
    ours.forEach((v, i) => {
      const want = theirs[i]?.dataSync() ?? new Float32Array(0);
      const got = v.dataSync();
      // lr 0.01 over 6 steps moves each value by up to 0.06: agreement to 1e-5 (float32 rounding of two
      // formula orders) is a real check.
      for (let j = 0; j < got.length; j++) expect(got[j]).toBeCloseTo(want[j] ?? Number.NaN, 5);
      expect(Math.abs((got[0] ?? 0) - (random(v.size, i)[0] ?? 0))).toBeGreaterThan(1e-3); // it moved
    });
    tf.dispose([...ours, ...theirs]);
    reference.clear();
  });

  it('DenseAdam equals a float64 transcription of Kingma & Ba, Algorithm 1, at step 3', () => {
    const n = 11;
    const p0 = random(n, 1);
    const grads = [random(n, 2), random(n, 3), random(n, 4)];
    const v = tf.variable(tf.tensor1d(p0));
    const adam = native();
    for (const g of grads) tf.tidy(() => adam.apply(v, tf.tensor1d(g)));
    const got = v.dataSync();
    for (let i = 0; i < n; i++) {
      let [p, m, s] = [p0[i] ?? 0, 0, 0];
      grads.forEach((g, t) => {
        const gi = g[i] ?? 0;
        m = 0.9 * m + 0.1 * gi;
        s = 0.999 * s + 0.001 * gi * gi;
        p -= (0.01 * (m / (1 - 0.9 ** (t + 1)))) / (Math.sqrt(s / (1 - 0.999 ** (t + 1))) + 1e-7);
      });
      expect(got[i]).toBeCloseTo(p, 6);
    }
    v.dispose();
  });

  it.each([
    ['DenseAdam', native],
    ['TfjsAdam', () => new TfjsAdam(options)],
  ])('%s gives each variable its own bias-correction count', (_, make) => {
    const a = tf.variable(tf.zeros([3]));
    const b = tf.variable(tf.zeros([3]));
    const adam = make();
    const g = tf.ones([3]);
    for (let i = 0; i < 4; i++) tf.tidy(() => adam.apply(a, g));
    tf.tidy(() => adam.apply(b, g)); // b's first step: m̂ = v̂ = 1, so it moves by lr / (1 + ε)
    expect(b.dataSync()[0]).toBeCloseTo(-options.learningRate, 6);
    expect(adam.has(a) && adam.has(b)).toBe(true);
    adam.clear();
    expect(adam.has(a)).toBe(false);
    tf.dispose([a, b, g]);
  });

  it('DenseAdam leaves no tensor behind but the new value, and rejects a gradient of another size', () => {
    const v = tf.variable(tf.zeros([4, 4]));
    const g = tf.ones([4, 4]);
    const adam = native();
    tf.tidy(() => adam.apply(v, g));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => adam.apply(v, g));
    expect(tf.memory().numTensors).toBe(before);
    const wrong = tf.ones([3]);
    expect(() => adam.apply(v, wrong)).toThrow(PeerShapeError);
    tf.dispose([v, g, wrong]);
  });

  it('DenseAdam gives the variable a new dataId (derived caches see the change) and never writes to a clone', () => {
    const v = tf.variable(tf.ones([8]));
    const anchor = tf.clone(v); // tfjs clones share the data id
    const id = v.dataId;
    const g = tf.ones([8]);
    tf.tidy(() => native().apply(v, g));
    expect(v.dataId).not.toBe(id);
    expect(Array.from(anchor.dataSync())).toEqual(Array(8).fill(1));
    expect(v.dataSync()[0]).toBeLessThan(1);
    tf.dispose([v, anchor, g]);
  });
});
