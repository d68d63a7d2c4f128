import { expect } from 'vitest';
import type { KernelHeap } from '../../src/kernels/kernel-heap.js';
import type { Random } from '../../src/util/random.js';

/** Integer in [lo, hi]. */
export function between(rng: Random, lo: number, hi: number): number {
  return lo + rng.int(hi - lo + 1);
}

/** n uniform floats in [-1, 1). */
export function uniform(rng: Random, n: number): Float32Array {
  return rng.fillUniform(new Float32Array(n), -1, 1);
}

/** n integer-valued floats in [0, levels): heavy ties for the tie-break rule. */
export function integers(rng: Random, n: number, levels: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(levels);
  return out;
}

/** n ids in [0, limit). */
export function ids(rng: Random, n: number, limit: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(limit);
  return out;
}

/** A copy of `array` living in `heap` (so the SIMD kernels take it zero-copy). */
export function inHeap<T extends Float32Array | Int32Array>(heap: KernelHeap, array: T): T {
  const ptr = heap.alloc(array.length * 4);
  const view = (
    array instanceof Float32Array ? heap.f32(ptr, array.length) : heap.i32(ptr, array.length)
  ) as T;
  view.set(array);
  return view;
}

/**
 * Asserts |actual - expected| <= tol * (1 + |expected|) elementwise, and the same NaN positions; reports the
 * worst element.
 */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what = '',
): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const a = actual[i] as number;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    const err = e === a ? 0 : Math.abs(a - e) / (1 + Math.abs(e));
    if (!(err <= worst)) {
      worst = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
      at = i;
    }
  }
  expect(worst, `${what} worst error at ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThanOrEqual(tol);
}

/** Bitwise equality of two float or int arrays (so -0 vs 0 and NaN payloads count). */
export function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what = ''): void {
  expect(Array.from(actual), what).toEqual(Array.from(expected));
}
