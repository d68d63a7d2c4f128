import { describe, expect, it } from 'vitest';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { BatchSampler, gatherLabels, gatherRows, sampleWindows } from '../../src/train/batches.js';
import { createRandom } from '../../src/util/random.js';

describe('BatchSampler', () => {
  it('visits every example exactly once per epoch, in a new order each epoch', () => {
    const sampler = new BatchSampler(10, 1);
    const epoch1 = [...sampler.next(4), ...sampler.next(4), ...sampler.next(2)];
    const epoch2 = Array.from(sampler.next(10));
    expect([...epoch1].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...epoch2].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epoch2).not.toEqual(epoch1);
    expect(sampler.epoch).toBe(2);
  });

  it('continues into the next epoch when a batch crosses the boundary, and reproduces by seed', () => {
    const a = new BatchSampler(5, 3);
    const b = new BatchSampler(5, 3);
    const batches = [a.next(3), a.next(3), a.next(3), a.next(3)];
    expect([b.next(3), b.next(3), b.next(3), b.next(3)]).toEqual(batches);
    const first5 = [...(batches[0] ?? []), ...(batches[1] ?? []).slice(0, 2)];
    expect(first5.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(new BatchSampler(5, 4).next(5)).not.toEqual(new BatchSampler(5, 3).next(5));
  });

  it('rejects bad sizes with typed errors', () => {
    expect(() => new BatchSampler(0, 1)).toThrow(PeerConfigError);
    expect(() => new BatchSampler(3, 1).next(0)).toThrow(/'batchSize' must be an integer >= 1, but got 0/);
  });
});

describe('batch gathering', () => {
  it('gathers rows and labels by index', () => {
    const x = Float32Array.of(0, 1, 10, 11, 20, 21);
    expect(Array.from(gatherRows(x, 2, [2, 0, 2]))).toEqual([20, 21, 0, 1, 20, 21]);
    expect(Array.from(gatherLabels(Int32Array.of(5, 6, 7), [1, 1, 0]))).toEqual([6, 6, 5]);
  });

  it('samples windows of consecutive tokens from the corpus', () => {
    const corpus = Int32Array.from({ length: 50 }, (_, i) => i);
    const windows = sampleWindows(corpus, 4, 9, createRandom(1));
    expect(windows).toHaveLength(36);
    for (let b = 0; b < 4; b++) {
      const row = Array.from(windows.subarray(b * 9, (b + 1) * 9));
      expect(row.every((t, i) => t === (row[0] ?? 0) + i)).toBe(true);
      expect(row[8]).toBeLessThan(50);
    }
    expect(() => sampleWindows(corpus, 1, 51, createRandom(1))).toThrow(PeerConfigError);
  });
});
