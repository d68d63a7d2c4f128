import { describe, expect, it } from 'vitest';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import type { PeerKernels } from '../../src/kernels/peer-kernels.js';
import { createReferenceKernels } from '../../src/kernels/reference-kernels.js';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';
import { bruteForceTopk } from '../../src/retrieval/brute-force-topk.js';
import { createRandom, type Random } from '../../src/util/random.js';
import { between, expectSame, inHeap, integers, uniform } from './kernel-helpers.js';

const reference = createReferenceKernels();
const simd = createSimdKernels();

interface Halves {
  score1: Float32Array;
  index1: Int32Array;
  score2: Float32Array;
  index2: Int32Array;
}

/** Per-row top-k of two sub-key score matrices, as the layer feeds productTopk. */
function halves(s1: Float32Array, s2: Float32Array, rows: number, n1: number, n2: number, k: number): Halves {
  const h = {
    score1: new Float32Array(rows * k),
    index1: new Int32Array(rows * k),
    score2: new Float32Array(rows * k),
    index2: new Int32Array(rows * k),
  };
  reference.topkRows(s1, rows, n1, k, h.index1, h.score1);
  reference.topkRows(s2, rows, n2, k, h.index2, h.score2);
  return h;
}

function runProduct(kernels: PeerKernels, h: Halves, rows: number, k: number, cols2: number) {
  const out = {
    id: new Int32Array(rows * k),
    score: new Float32Array(rows * k),
    a: new Int32Array(rows * k),
    b: new Int32Array(rows * k),
  };
  kernels.productTopk(
    h.score1,
    h.index1,
    h.score2,
    h.index2,
    rows,
    k,
    cols2,
    out.id,
    out.score,
    out.a,
    out.b,
  );
  return out;
}

function scores(rng: Random, n: number, kind: number): Float32Array {
  if (kind === 0) return uniform(rng, n);
  if (kind === 1) return integers(rng, n, 3);
  const s = integers(rng, n, 50);
  for (let i = 0; i < n; i += 1 + rng.int(5)) s[i] = Number.NaN;
  if (kind === 3) for (let i = 0; i < n; i += 1 + rng.int(40)) s[i] = rng.int(2) ? Infinity : -Infinity;
  return s;
}

describe('productTopk', () => {
  const rng = createRandom(11);
  const cases: [rows: number, n1: number, n2: number, k: number][] = [
    [1, 1, 1, 1],
    [3, 64, 64, 64],
    [50, 128, 100, 16],
  ];
  for (let i = 0; i < 20; i++) {
    const k = [1, 2, 5, 16, 32][rng.int(5)] as number;
    cases.push([between(rng, 1, 120), between(rng, k, 140), between(rng, k, 140), k]);
  }

  it.each(cases)(
    'rows %i grid %ix%i k %i: SIMD == reference == brute force over the full grid',
    (rows, n1, n2, k) => {
      for (let kind = 0; kind < 4; kind++) {
        const s1 = scores(rng, rows * n1, kind);
        const s2 = scores(rng, rows * n2, kind);
        const h = halves(s1, s2, rows, n1, n2, k);
        const ref = runProduct(reference, h, rows, k, n2);
        const got = runProduct(simd, h, rows, k, n2);
        expectSame(got.id, ref.id, 'id');
        expectSame(got.score, ref.score, 'score');
        expectSame(got.a, ref.a, 'a');
        expectSame(got.b, ref.b, 'b');
        // The product-key guarantee: equal to brute-force top-k over all n1*n2 sums, ties included (the
        // row-rank/column-rank tie-break keeps this exact under rounding and infinities too).
        const brute = bruteForceTopk(s1, s2, rows, n1, n2, k);
        expectSame(got.id, brute.ids, 'id vs brute force');
        expectSame(got.score, brute.scores, 'score vs brute force');
        // Positions point back at the halves the id came from (ids, not positions, are what gathers use).
        for (let t = 0; t < rows * k; t++) {
          const base = Math.floor(t / k) * k;
          const i = h.index1[base + (got.a[t] as number)] as number;
          const j = h.index2[base + (got.b[t] as number)] as number;
          expect(i * n2 + j).toBe(got.id[t]);
        }
      }
    },
  );

  it('works zero-copy with all arrays in the heap', () => {
    const rows = 30;
    const k = 16;
    const h = halves(uniform(rng, rows * 80), uniform(rng, rows * 90), rows, 80, 90, k);
    const plain = runProduct(simd, h, rows, k, 90);
    const heap = simd.heap;
    const hh = {
      score1: inHeap(heap, h.score1),
      index1: inHeap(heap, h.index1),
      score2: inHeap(heap, h.score2),
      index2: inHeap(heap, h.index2),
    };
    const out = [
      new Int32Array(rows * k),
      new Float32Array(rows * k),
      new Int32Array(rows * k),
      new Int32Array(rows * k),
    ];
    const [id, score, a, b] = out.map((array) => inHeap(heap, array)) as [
      Int32Array,
      Float32Array,
      Int32Array,
      Int32Array,
    ];
    simd.productTopk(hh.score1, hh.index1, hh.score2, hh.index2, rows, k, 90, id, score, a, b);
    expectSame(id, plain.id);
    expectSame(score, plain.score);
    expectSame(a, plain.a);
    expectSame(b, plain.b);
  });

  it('rejects k > 64', () => {
    const h = halves(uniform(rng, 65), uniform(rng, 65), 1, 65, 65, 65);
    expect(() => runProduct(simd, h, 1, 65, 65)).toThrow(PeerConfigError);
    expect(() => runProduct(reference, h, 1, 65, 65)).toThrow(PeerConfigError);
  });
});
