import { describe, expect, it } from 'vitest';
import { PeerShapeError } from '../../src/errors/peer-error.js';
import { continualMetrics } from '../../src/eval/continual-metrics.js';
import { routingChange } from '../../src/eval/routing-stability.js';

describe('continualMetrics', () => {
  // R[i][j]: accuracy on task j after training task i. Task 0 improves after task 1 (0.8 -> 0.9), then drops.
  const R = [
    [0.8, 0.1, 0.2],
    [0.9, 0.95, 0.3],
    [0.6, 0.8, 0.9],
  ];
  const b = [0.5, 0.05, 0.25];

  it('computes ACC, BWT, FWT and max-based forgetting of a hand-made matrix', () => {
    const m = continualMetrics(R, b);
    expect(m.tasks).toBe(3);
    expect(m.acc).toBeCloseTo((0.6 + 0.8 + 0.9) / 3, 12);
    expect(m.bwt).toBeCloseTo((0.6 - 0.8 + (0.8 - 0.95)) / 2, 12); // -0.175
    expect(m.fwt).toBeCloseTo((0.1 - 0.05 + (0.3 - 0.25)) / 2, 12); // 0.05
    // Chaudhry et al.: the max runs over every earlier step, so task 0 forgets from its best 0.9, not from 0.8.
    expect(m.forgetting).toBeCloseTo((0.9 - 0.6 + (0.95 - 0.8)) / 2, 12); // 0.225
    expect(m.final).toEqual([0.6, 0.8, 0.9]);
  });

  it('leaves FWT undefined without baselines, and transfer measures undefined for one task', () => {
    expect(continualMetrics(R).fwt).toBeNaN();
    const one = continualMetrics([[0.7]], [0.5]);
    expect(one.acc).toBe(0.7);
    expect([one.bwt, one.fwt, one.forgetting].every(Number.isNaN)).toBe(true);
  });

  it('rejects a matrix that is not square', () => {
    expect(() => continualMetrics([[1, 2]])).toThrow(PeerShapeError);
    expect(() => continualMetrics(R, [1])).toThrow(/baseline has 1 entries for 3 tasks/);
  });
});

describe('routingChange', () => {
  const retrieval = (ids: number[]) => ({
    tokens: 2,
    heads: 1,
    k: 2,
    ids: Int32Array.from(ids),
    gates: new Float32Array(4),
  });

  it('is the share of each token-head top-k set that changed, order ignored', () => {
    expect(routingChange(retrieval([1, 2, 3, 4]), retrieval([2, 1, 4, 3]))).toBe(0);
    expect(routingChange(retrieval([1, 2, 3, 4]), retrieval([1, 9, 8, 7]))).toBe(3 / 4);
    expect(() =>
      routingChange(retrieval([1, 2, 3, 4]), { ...retrieval([1, 2, 3, 4]), k: 4, tokens: 1 }),
    ).toThrow(PeerShapeError);
  });
});
