import { checkProductTopk, checkTopkRows } from './kernel-checks.js';

// Plain-JS top-k kernels: the definition the SIMD kernels are tested against. Row top-k: score descending,
// then index ascending. Product top-k: score descending, then row rank, then column rank (the positions
// a, b in the sorted inputs). NaN scores rank as -Infinity.

/** Row-wise top-k by keeping each output row as a sorted list; see PeerKernels.topkRows. */
export function referenceTopkRows(
  scores: Float32Array,
  rows: number,
  cols: number,
  k: number,
  outIndex: Int32Array,
  outScore: Float32Array,
): void {
  checkTopkRows(scores, rows, cols, k, outIndex, outScore);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let count = 0;
    for (let j = 0; j < cols; j++) {
      let s = scores[r * cols + j] as number;
      if (Number.isNaN(s)) s = Number.NEGATIVE_INFINITY;
      // Indices arrive in increasing order, so an equal score never displaces an earlier one.
      if (count === k && !(s > (outScore[o + k - 1] as number))) continue;
      let p = count < k ? count++ : k - 1;
      while (p > 0 && (outScore[o + p - 1] as number) < s) {
        outScore[o + p] = outScore[o + p - 1] as number;
        outIndex[o + p] = outIndex[o + p - 1] as number;
        p--;
      }
      outScore[o + p] = s;
      outIndex[o + p] = j;
    }
  }
}

/** Candidates arrive in (a, b) order, so only a strictly higher score ranks before an earlier entry. */
function ranksBefore(s: number, t: number): boolean {
  return s > t;
}

/** Product-key top-k over all k*k candidates of each row; see PeerKernels.productTopk. */
export function referenceProductTopk(
  score1: Float32Array,
  index1: Int32Array,
  score2: Float32Array,
  index2: Int32Array,
  rows: number,
  k: number,
  cols2: number,
  outId: Int32Array,
  outScore: Float32Array,
  outA: Int32Array,
  outB: Int32Array,
): void {
  checkProductTopk([score1, index1, score2, index2], [outId, outScore, outA, outB], rows, k, cols2);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let count = 0;
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let s = Math.fround((score1[o + a] as number) + (score2[o + b] as number));
        if (Number.isNaN(s)) s = Number.NEGATIVE_INFINITY;
        const id = (Math.imul(index1[o + a] as number, cols2) + (index2[o + b] as number)) | 0;
        if (count === k && !ranksBefore(s, outScore[o + k - 1] as number)) continue;
        let p = count < k ? count++ : k - 1;
        while (p > 0 && ranksBefore(s, outScore[o + p - 1] as number)) {
          outScore[o + p] = outScore[o + p - 1] as number;
          outId[o + p] = outId[o + p - 1] as number;
          outA[o + p] = outA[o + p - 1] as number;
          outB[o + p] = outB[o + p - 1] as number;
          p--;
        }
        outScore[o + p] = s;
        outId[o + p] = id;
        outA[o + p] = a;
        outB[o + p] = b;
      }
    }
  }
}
