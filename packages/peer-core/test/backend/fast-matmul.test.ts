import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastMatMul, initBackend, shutdownBackend } from '../../src/backend/index.js';
import { PeerShapeError } from '../../src/errors/peer-error.js';
import { expectAllClose, runOn, seededValues } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(shutdownBackend);

const M = 5;
const K = 4;
const N = 3;
const variants = [
  { tA: false, tB: false },
  { tA: true, tB: false },
  { tA: false, tB: true },
  { tA: true, tB: true },
];

/** Operands stored as the variant expects: a is [M,K] or [K,M], b is [K,N] or [N,K]. */
function operands(tA: boolean, tB: boolean): [tf.Tensor2D, tf.Tensor2D] {
  return [
    tf.tensor2d(seededValues(M * K, 1), tA ? [K, M] : [M, K]),
    tf.tensor2d(seededValues(K * N, 2), tB ? [N, K] : [K, N]),
  ];
}

// A loss that weights every output element differently, so any transposed gradient shows.
const weights = () => tf.tensor2d(seededValues(M * N, 3), [M, N]);

type MatMul = (a: tf.Tensor2D, b: tf.Tensor2D, tA: boolean, tB: boolean) => tf.Tensor2D;
const gradsOf = (mm: MatMul, tA: boolean, tB: boolean) => () => {
  const [a, b] = operands(tA, tB);
  const w = weights();
  const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
    tf.sum(tf.mul(mm(x as tf.Tensor2D, y as tf.Tensor2D, tA, tB), w)),
  )([a, b]);
  return [mm(a, b, tA, tB), da as tf.Tensor, db as tf.Tensor];
};

describe('fastMatMul', () => {
  for (const { tA, tB } of variants) {
    const label = `transposeA=${tA} transposeB=${tB}`;

    it(`${label}: value and gradients equal tf.matMul's on cpu`, async () => {
      const expected = await runOn(
        'cpu',
        gradsOf((a, b, x, y) => tf.matMul(a, b, x, y), tA, tB),
      );
      const actual = await runOn('cpu', gradsOf(fastMatMul, tA, tB));
      expectAllClose(actual, expected, 1e-6);
    });

    it(`${label}: gradients match central finite differences`, async () => {
      await tf.setBackend('cpu');
      const [a, b] = operands(tA, tB);
      const w = weights();
      const loss = (x: tf.Tensor2D, y: tf.Tensor2D) =>
        tf.tidy(() => tf.sum(tf.mul(fastMatMul(x, y, tA, tB), w)).dataSync()[0] as number);
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(fastMatMul(x as tf.Tensor2D, y as tf.Tensor2D, tA, tB), w)),
      )([a, b]);
      const eps = 1e-2;
      for (const [which, x, g] of [
        ['a', a, da],
        ['b', b, db],
      ] as const) {
        const values = x.dataSync();
        const analytic = (g as tf.Tensor).dataSync();
        for (let i = 0; i < values.length; i++) {
          const bump = (delta: number) => {
            const v = Float32Array.from(values);
            v[i] = (v[i] as number) + delta;
            const t = tf.tensor2d(v, x.shape);
            const out = which === 'a' ? loss(t, b) : loss(a, t);
            t.dispose();
            return out;
          };
          const numeric = (bump(eps) - bump(-eps)) / (2 * eps);
          expect(Math.abs(numeric - (analytic[i] as number)), `${which}[${i}]`).toBeLessThan(2e-3);
        }
      }
      tf.dispose([a, b, w, da, db]);
    });

    it(`${label}: same on wasm as on cpu`, async () => {
      const cpu = await runOn('cpu', gradsOf(fastMatMul, tA, tB));
      const wasm = await runOn('wasm', gradsOf(fastMatMul, tA, tB));
      expectAllClose(wasm, cpu, 1e-6);
    });
  }

  it('rejects non-2-D operands and mismatched inner dimensions, naming the shapes', () => {
    const a = tf.zeros([2, 3]) as tf.Tensor2D;
    const b = tf.zeros([2, 3]) as tf.Tensor2D;
    const c = tf.zeros([2, 3, 1]) as unknown as tf.Tensor2D;
    expect(() => fastMatMul(a, b)).toThrow(PeerShapeError);
    expect(() => fastMatMul(a, b)).toThrow(/\[2,3\] and bᵀ?.*\[2,3\]/);
    expect(() => fastMatMul(a, c)).toThrow(/2-D operands/);
    expect(fastMatMul(a, b, false, true).shape).toEqual([2, 2]);
    tf.dispose([a, b, c]);
  });

  it('leaks no tensors (forward and backward)', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    for (const { tA, tB } of variants) tf.dispose(tf.tidy(gradsOf(fastMatMul, tA, tB)));
    expect(tf.memory().numTensors).toBe(before);
  });
});
