import { PeerConfigError } from '../errors/peer-error.js';
import type { PeerKernels } from '../kernels/peer-kernels.js';

/** The experts one batch of queries retrieved: all arrays are [queries, k], row q = token * heads + head. */
export interface ExpertSelection {
  readonly queries: number;
  readonly k: number;
  /** Expert ids `i * cols + j`. */
  readonly ids: Int32Array;
  /** Retrieval scores `s1[i] + s2[j]` (float32), sorted descending per row. */
  readonly scores: Float32Array;
  /** Sub-key row `i` of each selected expert (index into C1). */
  readonly rowIndex: Int32Array;
  /** Sub-key column `j` of each selected expert (index into C2). */
  readonly colIndex: Int32Array;
}

/**
 * Exact product-key top-k (Lample et al. 2019; PEER §2): top-k of each half's sub-key scores, then top-k of
 * the k*k candidate sums. Equal to `bruteForceTopk` over all `rows * cols` experts, ties included: order by
 * score, then row rank, then column rank. Proof: if (i, j) is in the true top-k but row i is not among the
 * top-k rows, each of the k rows ranked above i gives (i', j) a sum >= (rounding is monotonic) and wins any
 * tie on row rank, so k experts precede (i, j) — a contradiction; likewise for columns.
 * Cost O(rows + cols + k^2) per query.
 */
export function productKeyTopk(
  kernels: PeerKernels,
  scores1: Float32Array,
  scores2: Float32Array,
  queries: number,
  rows: number,
  cols: number,
  k: number,
): ExpertSelection {
  if (k > rows) throw new PeerConfigError('k', `<= sub-key rows (${rows})`, k);
  if (k > cols) throw new PeerConfigError('k', `<= sub-key cols (${cols})`, k);
  const index1 = new Int32Array(queries * k);
  const top1 = new Float32Array(queries * k);
  const index2 = new Int32Array(queries * k);
  const top2 = new Float32Array(queries * k);
  kernels.topkRows(scores1, queries, rows, k, index1, top1);
  kernels.topkRows(scores2, queries, cols, k, index2, top2);
  const ids = new Int32Array(queries * k);
  const scores = new Float32Array(queries * k);
  const posA = new Int32Array(queries * k);
  const posB = new Int32Array(queries * k);
  kernels.productTopk(top1, index1, top2, index2, queries, k, cols, ids, scores, posA, posB);
  const rowIndex = new Int32Array(queries * k);
  const colIndex = new Int32Array(queries * k);
  for (let q = 0; q < queries; q++) {
    const base = q * k;
    for (let t = 0; t < k; t++) {
      rowIndex[base + t] = index1[base + (posA[base + t] ?? 0)] ?? 0;
      colIndex[base + t] = index2[base + (posB[base + t] ?? 0)] ?? 0;
    }
  }
  return { queries, k, ids, scores, rowIndex, colIndex };
}
