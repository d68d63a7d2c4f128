import { describe, expect, it } from 'vitest';
import { PeerConfigError, PeerShapeError } from '../../src/errors/peer-error.js';
import { createReferenceKernels } from '../../src/kernels/reference-kernels.js';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';
import { createRandom } from '../../src/util/random.js';
import { between, expectSame, inHeap, integers, uniform } from './kernel-helpers.js';

const reference = createReferenceKernels();
const simd = createSimdKernels();

/** The definition: sort every index of a row by (score desc with NaN as -Infinity, index asc). */
function oracleTopk(
  scores: Float32Array,
  rows: number,
  cols: number,
  k: number,
): { index: number[]; score: number[] } {
  const index: number[] = [];
  const score: number[] = [];
  for (let r = 0; r < rows; r++) {
    const at = (j: number): number => {
      const s = scores[r * cols + j] as number;
      return Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s;
    };
    const order = Array.from({ length: cols }, (_, j) => j).sort((a, b) => at(b) - at(a) || a - b);
    for (const j of order.slice(0, k)) {
      index.push(j);
      score.push(at(j));
    }
  }
  return { index, score };
}

function runTopk(
  kernels: typeof simd | typeof reference,
  scores: Float32Array,
  rows: number,
  cols: number,
  k: number,
) {
  const outIndex = new Int32Array(rows * k);
  const outScore = new Float32Array(rows * k);
  kernels.topkRows(scores, rows, cols, k, outIndex, outScore);
  return { outIndex, outScore };
}

describe('topkRows', () => {
  const rng = createRandom(7);
  const cases: [rows: number, cols: number, k: number][] = [
    [1, 1, 1],
    [3, 5, 5],
    [2, 17, 16],
    [300, 1100, 32],
    [64, 1024, 16],
    [5, 3, 2],
    // k > 32 takes the scalar insertion path; k = cols keeps every element.
    [7, 200, 33],
    [3, 64, 64],
    [2, 1100, 100],
    [4, 40, 40],
  ];
  for (let i = 0; i < 24; i++) {
    const cols = between(rng, 1, 1100);
    const ks = [1, 2, 5, 16, 32].filter((k) => k <= cols);
    cases.push([between(rng, 1, 300), cols, ks[rng.int(ks.length)] as number]);
  }

  it.each(cases)(
    'rows %i cols %i k %i: SIMD == reference == sort, uniform, integer ties, NaN and infinities',
    (rows, cols, k) => {
      const inputs = [
        uniform(rng, rows * cols),
        integers(rng, rows * cols, 4),
        integers(rng, rows * cols, 40),
      ];
      const withNaN = uniform(rng, rows * cols);
      for (let i = 0; i < withNaN.length; i += 1 + rng.int(7)) withNaN[i] = Number.NaN;
      for (let i = 0; i < withNaN.length; i += 1 + rng.int(50))
        withNaN[i] = rng.int(2) ? Infinity : -Infinity;
      inputs.push(withNaN);
      for (const scores of inputs) {
        const ref = runTopk(reference, scores, rows, cols, k);
        const got = runTopk(simd, scores, rows, cols, k);
        expectSame(got.outIndex, ref.outIndex, 'index');
        expectSame(got.outScore, ref.outScore, 'score');
        if (rows * cols <= 50_000) {
          const oracle = oracleTopk(scores, rows, cols, k);
          expectSame(ref.outIndex, oracle.index, 'reference index vs sort');
          expectSame(ref.outScore, oracle.score, 'reference score vs sort');
        }
      }
    },
  );

  it('keeps the earliest index among equal scores, also when all scores are NaN', () => {
    const scores = new Float32Array([
      1,
      3,
      3,
      1,
      3,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
    ]);
    const got = runTopk(simd, scores, 2, 5, 2);
    expectSame(got.outIndex, [1, 2, 0, 1]);
    expectSame(got.outScore, [3, 3, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });

  it('gives the same result zero-copy (arrays in the heap) as through the copy path', () => {
    const rows = 40;
    const cols = 333;
    const scores = integers(rng, rows * cols, 9);
    const plain = runTopk(simd, scores, rows, cols, 5);
    const outIndex = inHeap(simd.heap, new Int32Array(rows * 5));
    const outScore = inHeap(simd.heap, new Float32Array(rows * 5));
    const heapScores = inHeap(simd.heap, scores);
    const inUse = simd.heap.bytesInUse;
    simd.topkRows(heapScores, rows, cols, 5, outIndex, outScore);
    expect(simd.heap.bytesInUse).toBe(inUse);
    expectSame(outIndex, plain.outIndex);
    expectSame(outScore, plain.outScore);
  });

  it('rejects k outside [1, cols] and short arrays with typed errors', () => {
    for (const kernels of [simd, reference]) {
      expect(() => runTopk(kernels, new Float32Array(8), 2, 4, 5)).toThrow(PeerConfigError);
      expect(() => runTopk(kernels, new Float32Array(8), 2, 4, 0)).toThrow(PeerConfigError);
      expect(() => runTopk(kernels, new Float32Array(7), 2, 4, 2)).toThrow(PeerShapeError);
    }
  });
});
