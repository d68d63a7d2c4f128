import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** What a computation produced: enough to compare two backends. */
export interface Result {
  shape: number[];
  dtype: string;
  values: number[];
}

/** Runs `fn` on `backend` (switching to it) and reads the result(s) back; tensors are disposed. */
export async function runOn(backend: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const list = Array.isArray(out) ? out : [out];
  const results: Result[] = [];
  for (const t of list) {
    results.push({ shape: t.shape, dtype: t.dtype, values: Array.from(await t.data()) });
    t.dispose();
  }
  return results;
}

/** Asserts two results have the same shape and dtype and values within `tol` (absolute + relative). */
export function expectClose(actual: Result | undefined, expected: Result | undefined, tol = 1e-5): void {
  if (!actual || !expected) throw new Error(`missing result: actual ${actual}, expected ${expected}`);
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  expect(actual.values.length).toBe(expected.values.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.values.length; i++) {
    const e = expected.values[i] as number;
    const a = actual.values[i] as number;
    // NaN must meet NaN, and an infinity the same infinity.
    const err = Object.is(a, e) || a === e ? 0 : Math.abs(a - e) / (1 + Math.abs(e));
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
      at = i;
    }
  }
  expect(worst, `worst error at flat index ${at}`).toBeLessThanOrEqual(tol);
}

/** {@link expectClose} on each pair of two equally long result lists. */
export function expectAllClose(actual: Result[], expected: Result[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) expectClose(actual[k], expected[k], tol);
}

/** Deterministic pseudo-random floats in [-1, 1) (a 32-bit LCG), so both backends see the same data. */
export function seededValues(size: number, seed = 1): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Deterministic integers in [lo, hi). */
export function seededInts(size: number, lo: number, hi: number, seed = 7): Int32Array {
  const u = seededValues(size, seed);
  return Int32Array.from(u, (v) => lo + Math.min(hi - lo - 1, Math.floor(((v + 1) / 2) * (hi - lo))));
}
