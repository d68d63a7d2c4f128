import { activate, activateGrad } from './activation.js';
import { checkExperts, checkIndices, checkScatter } from './kernel-checks.js';
import type { ExpertsBackwardArgs, ExpertsForwardArgs } from './peer-kernels.js';

// Plain-JS expert kernels. Dot products run in float64 and are rounded once; every other product and sum is
// rounded to float32 as the SIMD kernels do. A zero coefficient skips its row (as in the SIMD kernels), so a
// non-finite table row behind a zero coefficient never turns the result into NaN.

function dot(a: Float32Array, aBase: number, b: Float32Array, bBase: number, d: number): number {
  let sum = 0;
  for (let j = 0; j < d; j++) sum += (a[aBase + j] as number) * (b[bBase + j] as number);
  return Math.fround(sum);
}

/** y[yBase..] += c * v[vBase..] over d elements, in float32. */
function axpy(y: Float32Array, yBase: number, c: number, v: Float32Array, vBase: number, d: number): void {
  if (c === 0) return;
  for (let j = 0; j < d; j++) {
    y[yBase + j] = Math.fround((y[yBase + j] as number) + Math.fround(c * (v[vBase + j] as number)));
  }
}

/** See PeerKernels.expertsForward. */
export function referenceExpertsForward(args: ExpertsForwardArgs): void {
  const numExperts = checkExperts('expertsForward', args);
  const { x, tokens, d, ids, gates, slots, u, v, activation, out, preact } = args;
  checkIndices('ids', ids, tokens * slots, numExperts);
  out.fill(0, 0, tokens * d);
  for (let t = 0; t < tokens; t++) {
    for (let s = 0; s < slots; s++) {
      const i = t * slots + s;
      const id = ids[i] as number;
      const a = dot(u.data, u.offset + id * d, x, t * d, d);
      preact[i] = a;
      const c = Math.fround((gates[i] as number) * activate(a, activation));
      axpy(out, t * d, c, v.data, v.offset + id * d, d);
    }
  }
}

/** See PeerKernels.expertsBackward. */
export function referenceExpertsBackward(args: ExpertsBackwardArgs): void {
  const numExperts = checkExperts('expertsBackward', args);
  const { dy, tokens, d, ids, gates, slots, u, v, preact, activation, dx, dgates, coefU, coefV } = args;
  checkIndices('ids', ids, tokens * slots, numExperts);
  dx.fill(0, 0, tokens * d);
  for (let t = 0; t < tokens; t++) {
    for (let s = 0; s < slots; s++) {
      const i = t * slots + s;
      const id = ids[i] as number;
      const a = preact[i] as number;
      const g = gates[i] as number;
      const h = activate(a, activation);
      const dh = activateGrad(a, activation);
      // When act and act' are both zero, w multiplies only zeros: skip the gather.
      const w = h === 0 && dh === 0 ? 0 : dot(v.data, v.offset + id * d, dy, t * d, d);
      dgates[i] = Math.fround(h * w);
      coefV[i] = Math.fround(g * h);
      const cu = Math.fround(Math.fround(g * dh) * w);
      coefU[i] = cu;
      axpy(dx, t * d, cu, u.data, u.offset + id * d, d);
    }
  }
}

/** See PeerKernels.scatterRank1. */
export function referenceScatterRank1(
  out: Float32Array,
  d: number,
  rowOf: Int32Array,
  coef: Float32Array,
  vecs: Float32Array,
  vecOf: Int32Array,
  count: number,
): void {
  const { numRows, numVecs } = checkScatter(out, d, rowOf, coef, vecs, vecOf, count);
  checkIndices('rowOf', rowOf, count, numRows);
  checkIndices('vecOf', vecOf, count, numVecs);
  for (let i = 0; i < count; i++) {
    axpy(out, (rowOf[i] as number) * d, coef[i] as number, vecs, (vecOf[i] as number) * d, d);
  }
}
