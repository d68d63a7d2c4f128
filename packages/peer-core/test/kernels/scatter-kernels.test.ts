import { describe, expect, it } from 'vitest';
import { createReferenceKernels } from '../../src/kernels/reference-kernels.js';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';
import { createRandom } from '../../src/util/random.js';
import { between, expectClose, expectSame, ids, inHeap, uniform } from './kernel-helpers.js';
import { requireNativeKernels } from './native-helpers.js';

const reference = createReferenceKernels();
const simd = createSimdKernels();
const native = requireNativeKernels();

describe('scatterRank1', () => {
  const rng = createRandom(21);
  const cases: [rows: number, vecs: number, count: number, d: number][] = [[1, 1, 1, 4]];
  for (const d of [3, 4, 8, 64, 256])
    cases.push([between(rng, 1, 50), between(rng, 1, 80), between(rng, 0, 600), d]);

  it.each(cases)(
    'rows %i vecs %i count %i d %i: SIMD == reference bitwise (same order of adds)',
    (rows, nv, count, d) => {
      const start = uniform(rng, rows * d);
      const rowOf = ids(rng, count, rows);
      const vecOf = ids(rng, count, nv);
      const coef = uniform(rng, count);
      for (let i = 0; i < count; i += 1 + rng.int(6)) coef[i] = 0;
      const vecs = uniform(rng, nv * d);
      const want = start.slice();
      reference.scatterRank1(want, d, rowOf, coef, vecs, vecOf, count);
      const got = start.slice();
      simd.scatterRank1(got, d, rowOf, coef, vecs, vecOf, count);
      expectSame(got, want);
      const inPlace = inHeap(simd.heap, start);
      simd.scatterRank1(
        inPlace,
        d,
        inHeap(simd.heap, rowOf),
        inHeap(simd.heap, coef),
        inHeap(simd.heap, vecs),
        vecOf,
        count,
      );
      expectSame(inPlace, want);
      // Native adds with fused multiply-adds (one rounding instead of two): equal to within an ulp per add.
      const fused = start.slice();
      native.scatterRank1(fused, d, rowOf, coef, vecs, vecOf, count);
      expectClose(fused, want, 1e-6 * Math.max(1, Math.sqrt(count)), 'native');
    },
  );

  it('rejects a row or vector index outside its array', () => {
    for (const kernels of [simd, reference, native]) {
      const out = new Float32Array(8);
      expect(() =>
        kernels.scatterRank1(out, 4, new Int32Array([2]), new Float32Array([1]), out, new Int32Array([0]), 1),
      ).toThrow(/'rowOf\[0\]' must be in \[0, 2\)/);
      expect(() =>
        kernels.scatterRank1(
          out,
          4,
          new Int32Array([0]),
          new Float32Array([1]),
          out,
          new Int32Array([-3]),
          1,
        ),
      ).toThrow(/'vecOf\[0\]' must be in \[0, 2\), but got -3/);
    }
  });
});
