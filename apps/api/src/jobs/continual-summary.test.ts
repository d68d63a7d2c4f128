import { continualMetrics } from '@peer/core';
import { describe, expect, it } from 'vitest';
import { continualSummary, type TrainedVersion } from './continual-summary.js';
import { isHeldOut } from './stream-data.js';
import { MAX_USAGE_CELLS, usageGrid } from './usage-grid.js';

describe('continualSummary', () => {
  it('matches the core ACC and BWT of a square run, and forgetting by its max-based definition', () => {
    const versions: TrainedVersion[] = [
      { stream: 'a', accuracy: { a: 0.9 } },
      { stream: 'b', accuracy: { a: 0.8, b: 0.95 } },
      { stream: 'c', accuracy: { a: 0.7, b: 0.9, c: 0.85 } },
    ];
    const s = continualSummary(versions);
    expect(s.streams).toEqual(['a', 'b', 'c']);
    expect(s.R).toEqual([[0.9], [0.8, 0.95], [0.7, 0.9, 0.85]]);
    // The core wants a square matrix; entries above the diagonal do not enter ACC or BWT.
    const core = continualMetrics([
      [0.9, 0, 0],
      [0.8, 0.95, 0],
      [0.7, 0.9, 0.85],
    ]);
    expect(s.acc).toBeCloseTo(core.acc, 12);
    expect(s.bwt).toBeCloseTo(core.bwt, 12);
    // forgetting: a: max(0.9, 0.8) - 0.7 = 0.2; b: 0.95 - 0.9 = 0.05
    expect(s.forgetting).toBeCloseTo(0.125, 12);
  });

  it('handles a stream trained twice (BWT against its latest training) and a single version', () => {
    const s = continualSummary([
      { stream: 'a', accuracy: { a: 0.6 } },
      { stream: 'b', accuracy: { a: 0.5, b: 0.9 } },
      { stream: 'a', accuracy: { a: 0.8, b: 0.7 } },
    ]);
    expect(s.streams).toEqual(['a', 'b']);
    expect(s.R).toEqual([[0.6], [0.5, 0.9], [0.8, 0.7]]);
    expect(s.bwt).toBeCloseTo(0.7 - 0.9, 12); // only b: a was trained last
    expect(s.forgetting).toBeCloseTo(0.2, 12);
    expect(continualSummary([{ stream: 'a', accuracy: { a: 0.7 } }])).toEqual({
      streams: ['a'],
      R: [[0.7]],
      acc: 0.7,
      bwt: 0,
      forgetting: 0,
    });
  });
});

describe('usageGrid', () => {
  it('reports small grids cell by cell and bins large ones to at most 128 x 128, keeping the total', () => {
    expect(usageGrid([1, 2, 3, 4], 2, 2)).toEqual({ rows: 2, cols: 2, counts: [1, 2, 3, 4] });
    const rows = 300;
    const cols = 256;
    const counts = Array.from({ length: rows * cols }, (_, i) => i % 7);
    const g = usageGrid(counts, rows, cols);
    expect(rows * cols).toBeGreaterThan(MAX_USAGE_CELLS);
    expect(g).toMatchObject({ rows, cols, binRows: 3, binCols: 2 });
    expect(g.counts).toHaveLength(100 * 128);
    expect(g.counts.reduce((a, b) => a + b, 0)).toBe(counts.reduce((a, b) => a + b, 0));
    // bin (0, 0) sums sub-key rows 0-2, columns 0-1
    let first = 0;
    for (let r = 0; r < 3; r++) for (let c = 0; c < 2; c++) first += counts[r * cols + c] ?? 0;
    expect(g.counts[0]).toBe(first);
  });
});

describe('isHeldOut', () => {
  it('holds out about one record in ten, evenly across offsets modulo 10 (no aliasing with cyclic labels)', () => {
    const byResidue = new Array(10).fill(0);
    let held = 0;
    for (let o = 0; o < 50_000; o++) {
      if (isHeldOut(o)) {
        held++;
        byResidue[o % 10]++;
      }
    }
    expect(held / 50_000).toBeGreaterThan(0.09);
    expect(held / 50_000).toBeLessThan(0.11);
    for (const n of byResidue) expect(n).toBeGreaterThan(400);
    // The first ten offsets already hold some out, and keep some to train on.
    const first = Array.from({ length: 10 }, (_, o) => isHeldOut(o)).filter(Boolean).length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(10);
  });
});
