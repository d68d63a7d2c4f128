import { PeerConfigError, PeerShapeError } from '../errors/peer-error.js';
import type { ExpertsBackwardArgs, ExpertsForwardArgs, ExpertTableView } from './peer-kernels.js';

// Argument checks shared by the reference and SIMD kernels, so both reject the same calls with the same
// typed errors. The SIMD kernels trust their pointers: everything they index is checked here first.

/** Largest k accepted by productTopk: its per-row insertion list is O(k) per candidate. */
export const MAX_PRODUCT_K = 64;

function checkInt(field: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new PeerConfigError(
      field,
      max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`,
      value,
    );
  }
}

function checkLength(kernel: string, field: string, array: ArrayLike<number>, needed: number): void {
  if (array.length < needed) {
    throw new PeerShapeError(`${kernel}: '${field}' needs ${needed} elements, but has ${array.length}`);
  }
}

/** Arguments of topkRows: 1 <= k <= cols, arrays long enough. */
export function checkTopkRows(
  scores: Float32Array,
  rows: number,
  cols: number,
  k: number,
  outIndex: Int32Array,
  outScore: Float32Array,
): void {
  checkInt('rows', rows, 0);
  checkInt('cols', cols, 1);
  checkInt('k', k, 1, cols);
  checkLength('topkRows', 'scores', scores, rows * cols);
  checkLength('topkRows', 'outIndex', outIndex, rows * k);
  checkLength('topkRows', 'outScore', outScore, rows * k);
}

/** Arguments of productTopk: 1 <= k <= 64, cols2 >= k (the column top-k came from cols2 columns), arrays >= rows * k. */
export function checkProductTopk(
  inputs: readonly (Float32Array | Int32Array)[],
  outputs: readonly (Float32Array | Int32Array)[],
  rows: number,
  k: number,
  cols2: number,
): void {
  checkInt('rows', rows, 0);
  checkInt('k', k, 1, MAX_PRODUCT_K);
  checkInt('cols2', cols2, k);
  for (const array of inputs) checkLength('productTopk', 'score/index input', array, rows * k);
  for (const array of outputs) checkLength('productTopk', 'output', array, rows * k);
}

/** Rows available in a table view: whole rows of width d from `offset` to the end of `data`. */
export function tableRows(field: string, table: ExpertTableView, d: number): number {
  checkInt(`${field}.offset`, table.offset, 0, table.data.length);
  return Math.floor((table.data.length - table.offset) / d);
}

/** Checks the shared arguments of expertsForward/expertsBackward; returns the number of experts both tables hold. */
export function checkExperts(kernel: string, args: ExpertsForwardArgs | ExpertsBackwardArgs): number {
  const { tokens, d, slots } = args;
  checkInt('tokens', tokens, 0);
  checkInt('d', d, 1);
  checkInt('slots', slots, 1);
  checkInt('activation', args.activation, 0, 1);
  checkLength(kernel, 'x', args.x, tokens * d);
  checkLength(kernel, 'ids', args.ids, tokens * slots);
  checkLength(kernel, 'gates', args.gates, tokens * slots);
  checkLength(kernel, 'preact', args.preact, tokens * slots);
  if ('dy' in args) {
    checkLength(kernel, 'dy', args.dy, tokens * d);
    checkLength(kernel, 'dx', args.dx, tokens * d);
    for (const [field, array] of [
      ['dgates', args.dgates],
      ['coefU', args.coefU],
      ['coefV', args.coefV],
    ] as const) {
      checkLength(kernel, field, array, tokens * slots);
    }
  } else {
    checkLength(kernel, 'out', args.out, tokens * d);
  }
  return Math.min(tableRows('u', args.u, d), tableRows('v', args.v, d), 2 ** 31 - 1);
}

/** Arguments of scatterRank1; returns how many whole rows `out` and `vecs` hold (bounds for the indices). */
export function checkScatter(
  out: Float32Array,
  d: number,
  rowOf: Int32Array,
  coef: Float32Array,
  vecs: Float32Array,
  vecOf: Int32Array,
  count: number,
): { numRows: number; numVecs: number } {
  checkInt('d', d, 1);
  checkInt('count', count, 0);
  checkLength('scatterRank1', 'rowOf', rowOf, count);
  checkLength('scatterRank1', 'coef', coef, count);
  checkLength('scatterRank1', 'vecOf', vecOf, count);
  return { numRows: Math.floor(out.length / d), numVecs: Math.floor(vecs.length / d) };
}

/** The typed error for an index outside its table: names the array, the position and the bound. */
export function indexError(field: string, position: number, value: number, limit: number): PeerConfigError {
  return new PeerConfigError(`${field}[${position}]`, `in [0, ${limit})`, value);
}

/** Throws `indexError` for the first of `count` values outside [0, limit). */
export function checkIndices(field: string, values: Int32Array, count: number, limit: number): void {
  for (let i = 0; i < count; i++) {
    const value = values[i] as number;
    if (value < 0 || value >= limit) throw indexError(field, i, value, limit);
  }
}
