import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastMatMul, initBackend, shutdownBackend } from '../../src/backend/index.js';
import { NATIVE_MATMUL } from '../../src/backend/native-matmul.js';
import { defaultNativeAddon } from '../../src/kernels/default-kernels.js';
import { createRandom } from '../../src/util/random.js';
import { expectClose, expectSame, uniform } from './kernel-helpers.js';
import { requireNativeAddon, TRANSPOSES } from './native-helpers.js';

const addon = requireNativeAddon();
const rng = createRandom(41);

/** op(A) op(B) (+ C) in float64. */
function reference(
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  ta: boolean,
  b: Float32Array,
  tb: boolean,
  c0?: Float32Array,
) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = c0 ? (c0[i * n + j] as number) : 0;
      for (let p = 0; p < k; p++)
        s += (a[ta ? p * m + i : i * k + p] as number) * (b[tb ? j * k + p : p * n + j] as number);
      out[i * n + j] = s;
    }
  return out;
}

describe('native gemm', () => {
  // Few rows (no packing), partial 6x16 tiles, depth past one 256 block, rows past one 96 block.
  const shapes: [m: number, n: number, k: number][] = [
    [1, 1, 1],
    [3, 1024, 64],
    [6, 16, 64],
    [7, 33, 300],
    [13, 1, 9],
    [97, 130, 257],
    [200, 300, 40],
  ];
  for (const [m, n, k] of shapes)
    for (const ta of [false, true])
      for (const tb of [false, true])
        it(`[${m}x${k}]x[${k}x${n}] transposeA=${ta} transposeB=${tb}: equals float64, with and without accumulate`, () => {
          const a = uniform(rng, m * k);
          const b = uniform(rng, k * n);
          const c0 = uniform(rng, m * n);
          const tol = 1e-6 * Math.sqrt(k);
          const c = new Float32Array(m * n).fill(Number.NaN); // overwritten, never read
          addon.gemm(m, n, k, a, ta, b, tb, c, false, 1);
          expectClose(c, reference(m, n, k, a, ta, b, tb), tol, 'c');
          const acc = c0.slice();
          addon.gemm(m, n, k, a, ta, b, tb, acc, true, 1);
          expectClose(acc, reference(m, n, k, a, ta, b, tb, c0), tol, 'c + op(a) op(b)');
          // Two threads split the rows of C: every element is the same sum in the same order.
          const two = new Float32Array(m * n);
          addon.gemm(m, n, k, a, ta, b, tb, two, false, 2);
          expectSame(two, c, 'two threads');
        });

  it('k = 0 gives zeros (or leaves C when accumulating); m = 0 or n = 0 writes nothing', () => {
    const c = new Float32Array([1, 2, 3, 4]);
    addon.gemm(2, 2, 0, new Float32Array(0), false, new Float32Array(0), false, c, true, 1);
    expect([...c]).toEqual([1, 2, 3, 4]);
    addon.gemm(2, 2, 0, new Float32Array(0), false, new Float32Array(0), false, c, false, 1);
    expect([...c]).toEqual([0, 0, 0, 0]);
    addon.gemm(
      0,
      2,
      3,
      new Float32Array(0),
      false,
      new Float32Array(6),
      false,
      new Float32Array(0),
      false,
      1,
    );
  });

  it('throws a RangeError naming the argument for short or mistyped arrays, never reads past them', () => {
    const f = (n: number) => new Float32Array(n);
    expect(() => addon.gemm(3, 2, 2, f(4), false, f(4), false, f(6), false, 1)).toThrow(
      /a holds 4 elements, needs at least 6/,
    );
    expect(() => addon.gemm(2, 2, 2, f(4), false, f(4), false, f(3), false, 1)).toThrow(/c holds 3/);
    expect(() =>
      addon.gemm(2, 2, 2, f(4), false, new Int32Array(4) as unknown as Float32Array, false, f(4), false, 1),
    ).toThrow(/b must be a Float32Array/);
    expect(() => addon.gemm(-1, 2, 2, f(4), false, f(4), false, f(4), false, 1)).toThrow(
      /m must be an integer in \[0, 2\^31\)/,
    );
    expect(() => addon.gemm(2 ** 31, 1, 1, f(4), false, f(4), false, f(4), false, 1)).toThrow(
      /m must be an integer/,
    );
    expect(() => addon.gemm(1.5, 1, 1, f(4), false, f(4), false, f(4), false, 1)).toThrow(
      /m must be an integer/,
    );
  });
});

describe('fastMatMul on the native kernels', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: () => {} });
  });
  afterAll(shutdownBackend);

  it('is what the default kernels use here', () => {
    expect(defaultNativeAddon()).toBe(addon);
  });

  it('runs as a kernel whose gradient computes only the products on a path to what is differentiated', async () => {
    const a = tf.tensor2d(uniform(rng, 6 * 5), [6, 5]);
    const b = tf.tensor2d(uniform(rng, 5 * 4), [5, 4]);
    const products = async (f: () => tf.Tensor) => {
      const info = await tf.profile(() => tf.tidy(f));
      return info.kernels.filter((k) => k.name === NATIVE_MATMUL).length;
    };
    const loss = (x: tf.Tensor, y: tf.Tensor) => fastMatMul(x as tf.Tensor2D, y as tf.Tensor2D).sum();
    expect(await products(() => loss(a, b))).toBe(1);
    expect(await products(() => tf.grad((y) => loss(a, y))(b))).toBe(2); // forward + dB, no dA
    expect(await products(() => tf.grad((x) => loss(x, b))(a))).toBe(2); // forward + dA, no dB
    expect(await products(() => tf.grads(loss)([a, b])[0] as tf.Tensor)).toBe(3);
    tf.dispose([a, b]);
  });

  for (const [ta, tb] of TRANSPOSES) {
    it(`transposeA=${ta} transposeB=${tb}: value and both gradients equal tf.matMul's at [70x130]x[130x40]`, () => {
      const [m, k, n] = [70, 130, 40];
      const a = tf.tensor2d(uniform(rng, m * k), ta ? [k, m] : [m, k]);
      const b = tf.tensor2d(uniform(rng, k * n), tb ? [n, k] : [k, n]);
      const w = tf.tensor2d(uniform(rng, m * n), [m, n]);
      type MatMul = (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D;
      const run = (mm: MatMul) =>
        tf.tidy(() => {
          const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
            mm(x as tf.Tensor2D, y as tf.Tensor2D)
              .mul(w)
              .sum(),
          )([a, b]);
          return [mm(a, b), da, db].map((t) => (t as tf.Tensor).dataSync() as Float32Array);
        });
      const before = tf.memory().numTensors;
      const got = run((x, y) => fastMatMul(x, y, ta, tb));
      expect(tf.memory().numTensors).toBe(before);
      const want = run((x, y) => tf.matMul(x, y, ta, tb));
      ['value', 'dA', 'dB'].forEach((label, i) => {
        expectClose(got[i] as Float32Array, want[i] as Float32Array, 1e-5, label);
      });
      tf.dispose([a, b, w]);
    });
  }
});
