import { describe, expect, it } from 'vitest';
import type { PeerKernels } from '../../src/kernels/peer-kernels.js';
import { createReferenceKernels } from '../../src/kernels/reference-kernels.js';
import { getSimdKernels } from '../../src/kernels/simd-kernels.js';
import { bruteForceTopk } from '../../src/retrieval/brute-force-topk.js';
import { productKeyTopk } from '../../src/retrieval/product-key-topk.js';
import { createRandom } from '../../src/util/random.js';

const kernelSets: [string, () => PeerKernels][] = [
  ['reference', createReferenceKernels],
  ['simd', getSimdKernels],
];

/** Sub-key scores of `queries` (= tokens x heads) against each codebook; `levels` > 0 quantises to force ties. */
function scores(queries: number, n: number, seed: number, levels: number): Float32Array {
  const rng = createRandom(seed);
  const out = new Float32Array(queries * n);
  for (let i = 0; i < out.length; i++) out[i] = levels > 0 ? rng.int(levels) - levels / 2 : rng.normal();
  return out;
}

describe.each(kernelSets)('product-key top-k (%s kernels)', (_name, makeKernels) => {
  const kernels = makeKernels();

  it.each([
    // [rows, cols, k, tokens * heads, tie levels (0 = continuous)]
    [4, 4, 1, 3, 0],
    [8, 8, 4, 16, 0],
    [16, 9, 8, 24, 0],
    [32, 32, 16, 8 * 4, 0],
    [64, 48, 16, 8, 0],
    [16, 16, 16, 6, 0],
    [8, 8, 4, 32, 3],
    [32, 32, 16, 16, 4],
    [20, 12, 5, 40, 2],
  ])(
    'equals brute force over all rows x cols experts: rows %i, cols %i, k %i, queries %i, ties %i',
    (rows, cols, k, queries, levels) => {
      const s1 = scores(queries, rows, rows * 31 + k, levels);
      const s2 = scores(queries, cols, cols * 17 + queries, levels);
      const got = productKeyTopk(kernels, s1, s2, queries, rows, cols, k);
      const expected = bruteForceTopk(s1, s2, queries, rows, cols, k);
      expect(Array.from(got.ids)).toEqual(Array.from(expected.ids));
      expect(Array.from(got.scores)).toEqual(Array.from(expected.scores));
      // Ids are grid positions of the selected sub-keys, not positions among the k*k candidates.
      for (let s = 0; s < got.ids.length; s++) {
        expect(got.ids[s]).toBe((got.rowIndex[s] ?? 0) * cols + (got.colIndex[s] ?? 0));
      }
    },
  );

  it('breaks ties by row rank, then column rank (all scores equal: ids ascending)', () => {
    const got = productKeyTopk(kernels, new Float32Array(5), new Float32Array(7), 1, 5, 7, 4);
    expect(Array.from(got.ids)).toEqual([0, 1, 2, 3]);
  });

  it('breaks float32 rounding ties by row rank, not by id (where an id tie-break would be inexact)', () => {
    // The ulp at 2^24 is 2: both 2^24 + 0.25 and 2^24 + 0.5 round to 2^24, a tie between row 0 (lower id)
    // and row 1 (higher sub-key score). Only row 1 is in the top-1 rows, so an id tie-break could not match.
    const s1 = Float32Array.from([0.25, 0.5]);
    const s2 = Float32Array.from([2 ** 24]);
    expect(Math.fround(0.25 + 2 ** 24)).toBe(Math.fround(0.5 + 2 ** 24));
    const got = productKeyTopk(kernels, s1, s2, 1, 2, 1, 1);
    expect(Array.from(got.ids)).toEqual([1]);
    expect(Array.from(bruteForceTopk(s1, s2, 1, 2, 1, 1).ids)).toEqual([1]);
  });

  it('never returns NaN-scored experts ahead of finite ones', () => {
    const s1 = Float32Array.from([Number.NaN, 1, 0, 2]);
    const s2 = Float32Array.from([0, Number.NaN, 3]);
    const got = productKeyTopk(kernels, s1, s2, 1, 4, 3, 2);
    expect(Array.from(got.ids)).toEqual([3 * 3 + 2, 1 * 3 + 2]);
  });
});
