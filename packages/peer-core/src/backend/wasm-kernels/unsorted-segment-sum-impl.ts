import type { HeapArray } from './wasm-heap.js';

/**
 * `out[s, :] = sum of x[i, :] over every i with ids[i] == s`, for rows of `inner` elements.
 *
 * Ids outside `[0, numSegments)` (negative ones included) contribute nowhere, as on tfjs's cpu backend.
 * `out` must hold `numSegments * inner` elements; it is overwritten, not accumulated into.
 * Int32 sums wrap on overflow, as TensorFlow's do.
 */
export function unsortedSegmentSumImpl(
  x: HeapArray,
  ids: Int32Array,
  inner: number,
  numSegments: number,
  out: HeapArray,
): void {
  out.fill(0);
  const rows = ids.length;
  if (inner === 1) {
    // Scalar rows (segment sums of scores): one add per id, no inner loop overhead.
    for (let i = 0; i < rows; i++) {
      const s = ids[i] as number;
      if (s >= 0 && s < numSegments) (out[s] as number) += x[i] as number;
    }
    return;
  }
  for (let i = 0; i < rows; i++) {
    const s = ids[i] as number;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) (out[dst + j] as number) += x[src + j] as number;
  }
}
