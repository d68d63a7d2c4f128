// Sparse gradient rows and id validation.
import { axpy } from './vector';

/** out[rowOf[i]] += coef[i] * vecs[vecOf[i]] for i in [0, count); rows of length d. Indices checked by the caller. */
export function scatterRank1(
  out: usize,
  d: i32,
  rowOf: usize,
  coef: usize,
  vecs: usize,
  vecOf: usize,
  count: i32,
): void {
  const rowBytes = (<usize>d) << 2;
  for (let i: usize = 0; i < <usize>count; i++) {
    const o = i << 2;
    const c = load<f32>(coef + o);
    if (c === 0) continue;
    axpy(out + <usize>load<i32>(rowOf + o) * rowBytes, c, vecs + <usize>load<i32>(vecOf + o) * rowBytes, d);
  }
}

/**
 * Index of the first of `count` i32 values outside [0, limit), or -1. Runs before a gather so that a bad id
 * becomes a typed error in JS instead of a silent read or write elsewhere in the shared heap.
 */
export function firstOutOfRange(values: usize, count: i32, limit: i32): i32 {
  const lim = <u32>limit;
  for (let i = 0; i < count; i++) {
    // Negative ids wrap to huge unsigned values, so one unsigned compare checks both bounds.
    if (<u32>load<i32>(values + ((<usize>i) << 2)) >= lim) return i;
  }
  return -1;
}
