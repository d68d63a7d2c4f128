import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { PeerShapeError } from '../../src/errors/peer-error.js';
import { adamUpdate, DenseAdam } from '../../src/train/dense-adam.js';
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

describe('DenseAdam', () => {
  // Both update paths: the native AVX2 kernel (the default here: the addon is built) and the JS loop.
  it.each([
    ['native', () => new DenseAdam(options, requireNativeAddon())],
    ['JS', () => new DenseAdam(options, null)],
  ])('%s: follows tf.train.adam step for step over shapes and changing gradients', (_, make) => {
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
    const adam = make();
    const reference = theirs.map(() =>
      tf.train.adam(options.learningRate, options.beta1, options.beta2, 1e-7),
    );
    for (let step = 0; step < 6; step++) {
      ours.forEach((v, i) => {
        const g = tf.tensor(random(v.size, 100 * step + i), v.shape);
        tf.tidy(() => adam.apply(v, g));
        reference[i]?.applyGradients([{ name: theirs[i]?.name ?? '', tensor: g }]);
        g.dispose();
      });
    }
    ours.forEach((v, i) => {
      const want = theirs[i]?.dataSync() ?? new Float32Array(0);
      const got = v.dataSync();
      // lr 0.01 over 6 steps moves each value by up to 0.06: agreement to 1e-5 (float32 rounding
      // of two formula orders) is a real check.
      for (let j = 0; j < got.length; j++) expect(got[j]).toBeCloseTo(want[j] ?? Number.NaN, 5);
      expect(Math.abs((got[0] ?? 0) - (random(v.size, i)[0] ?? 0))).toBeGreaterThan(1e-3); // it moved
    });
    tf.dispose([...ours, ...theirs]);
    for (const r of reference) r.dispose();
  });

  it('defaults to the native kernel where the default kernels are native', () => {
    const v = tf.variable(tf.zeros([3]));
    const g = tf.ones([3]);
    const calls: number[] = [];
    const addon = requireNativeAddon();
    const spy = {
      ...addon,
      adamUpdate: (...a: Parameters<typeof addon.adamUpdate>) => {
        calls.push(a[5]);
        addon.adamUpdate(...a);
      },
    };
    tf.tidy(() => new DenseAdam(options, spy).apply(v, g));
    expect(calls).toEqual([3]);
    expect(new DenseAdam(options).kernel).toBe('native');
    expect(new DenseAdam(options, null).kernel).toBe('js');
    tf.dispose([v, g]);
  });

  it('gives each variable its own bias-correction count', () => {
    const a = tf.variable(tf.zeros([3]));
    const b = tf.variable(tf.zeros([3]));
    const adam = new DenseAdam(options);
    const g = tf.ones([3]);
    for (let i = 0; i < 4; i++) adam.apply(a, g);
    adam.apply(b, g); // b's first step: m̂ = v̂ = 1, so it moves by lr / (1 + ε), like a's first step did
    expect(b.dataSync()[0]).toBeCloseTo(-options.learningRate, 6);
    expect(adam.has(a) && adam.has(b)).toBe(true);
    tf.dispose([a, b, g]);
  });

  it('adamUpdate equals a float64 transcription of Kingma & Ba, Algorithm 1', () => {
    const n = 9;
    const p = random(n, 1);
    const g = random(n, 2);
    const state = { m: random(n, 3).map((x) => x * 0.1), v: random(n, 4).map((x) => x * x * 0.01), step: 3 };
    const m0 = Float64Array.from(state.m);
    const v0 = Float64Array.from(state.v);
    const out = new Float32Array(n);
    adamUpdate(p, g, state, out, options);
    for (let i = 0; i < n; i++) {
      const gi = g[i] ?? 0;
      const m = 0.9 * (m0[i] ?? 0) + 0.1 * gi;
      const v = 0.999 * (v0[i] ?? 0) + 0.001 * gi * gi;
      const want = (p[i] ?? 0) - (0.01 * (m / (1 - 0.9 ** 3))) / (Math.sqrt(v / (1 - 0.999 ** 3)) + 1e-7);
      expect(out[i]).toBeCloseTo(want, 6);
      expect(state.m[i]).toBeCloseTo(m, 7);
    }
  });

  it('leaves no tensor behind but the new value, and rejects a gradient of another size', () => {
    const v = tf.variable(tf.zeros([4, 4]));
    const g = tf.ones([4, 4]);
    const adam = new DenseAdam(options);
    tf.tidy(() => adam.apply(v, g));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => adam.apply(v, g));
    expect(tf.memory().numTensors).toBe(before);
    const wrong = tf.ones([3]);
    expect(() => adam.apply(v, wrong)).toThrow(PeerShapeError);
    tf.dispose([v, g, wrong]);
  });

  it('never writes through to a tensor that shares the variable’s values (an anchor copy)', () => {
    const v = tf.variable(tf.ones([8]));
    const anchor = tf.clone(v); // tfjs clones share the data id
    const adam = new DenseAdam(options);
    const g = tf.ones([8]);
    adam.apply(v, g);
    expect(Array.from(anchor.dataSync())).toEqual(Array(8).fill(1));
    expect(v.dataSync()[0]).toBeLessThan(1);
    tf.dispose([v, anchor, g]);
  });
});
