import type { UsageGrid } from './train-task-types.js';

/** Largest grid reported cell by cell (128 × 128); larger grids are summed into at most this many bins. */
export const MAX_USAGE_CELLS = 16_384;
/** Bins per side of a binned grid. */
export const MAX_USAGE_SIDE = 128;

/**
 * Counts how often each expert was retrieved, over the sub-key grid: expert id `row * cols + col` (the core's
 * numbering, DESIGN §1), all heads and top-k slots summed. Accumulated batch by batch with {@link add}.
 */
export class UsageCounter {
  readonly counts: Float64Array;

  constructor(
    readonly rows: number,
    readonly cols: number,
  ) {
    this.counts = new Float64Array(rows * cols);
  }

  /** Adds one retrieval's expert ids (any layout; every id counts once). */
  add(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] ?? -1;
      if (id >= 0 && id < this.counts.length) this.counts[id] = (this.counts[id] ?? 0) + 1;
    }
  }

  /** The grid as reported in version metrics; binned to at most 128 × 128 when larger than 16,384 cells. */
  grid(): UsageGrid {
    return usageGrid(this.counts, this.rows, this.cols);
  }
}

/**
 * A row-major `rows × cols` count grid as reported: unchanged up to {@link MAX_USAGE_CELLS} cells, else summed
 * over bins of `binRows × binCols` sub-key cells, giving `ceil(rows / binRows) × ceil(cols / binCols)` counts.
 */
export function usageGrid(counts: ArrayLike<number>, rows: number, cols: number): UsageGrid {
  if (rows * cols <= MAX_USAGE_CELLS) return { rows, cols, counts: Array.from(counts) };
  const binRows = Math.ceil(rows / MAX_USAGE_SIDE);
  const binCols = Math.ceil(cols / MAX_USAGE_SIDE);
  const outRows = Math.ceil(rows / binRows);
  const outCols = Math.ceil(cols / binCols);
  const out = new Array<number>(outRows * outCols).fill(0);
  for (let r = 0; r < rows; r++) {
    const base = Math.floor(r / binRows) * outCols;
    for (let c = 0; c < cols; c++) {
      const cell = base + Math.floor(c / binCols);
      out[cell] = (out[cell] ?? 0) + (counts[r * cols + c] ?? 0);
    }
  }
  return { rows, cols, counts: out, binRows, binCols };
}
