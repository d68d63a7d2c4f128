import { describe, expect, it } from 'vitest';
import { ReservoirBuffer } from '../../src/continual/reservoir-buffer.js';
import { InMemoryContinualStateStore } from '../../src/continual/state-store.js';

const item = (i: number, classes = 1) => ({ x: [i, i / 2], y: i % classes, task: 0 });

describe('ReservoirBuffer (Algorithm R)', () => {
  it('keeps every offered item with probability capacity/t (chi-square over 2000 seeded runs)', () => {
    const n = 100;
    const capacity = 10;
    const runs = 2000;
    const counts = new Array(n).fill(0);
    for (let seed = 0; seed < runs; seed++) {
      const buffer = new ReservoirBuffer({ capacity, seed });
      for (let i = 0; i < n; i++) buffer.offer(item(i));
      expect(buffer.size).toBe(capacity);
      for (const kept of buffer.items()) counts[kept.x[0] ?? 0]++;
    }
    const expected = (runs * capacity) / n; // 200
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 99 degrees of freedom: P(chi2 > 148.2) = 0.001 under uniform inclusion.
    expect(chi2).toBeLessThan(148.2);
    // Early and late items alike: the first and last ten are within 4 binomial stds of 200.
    const std = Math.sqrt(runs * (capacity / n) * (1 - capacity / n));
    for (const c of [...counts.slice(0, 10), ...counts.slice(-10)])
      expect(Math.abs(c - expected)).toBeLessThan(4 * std);
  });

  it('is bounded, per class when class-balanced', () => {
    const buffer = new ReservoirBuffer({ capacity: 5, classBalanced: true, seed: 3 });
    for (let i = 0; i < 203; i++) buffer.offer(item(i, 4));
    expect(buffer.size).toBe(20);
    const perClass = [0, 0, 0, 0];
    for (const kept of buffer.items()) perClass[kept.y] = (perClass[kept.y] ?? 0) + 1;
    expect(perClass).toEqual([5, 5, 5, 5]);
    const few = new ReservoirBuffer({ capacity: 5, classBalanced: true });
    for (let i = 0; i < 3; i++) few.offer(item(i, 3));
    expect(few.size).toBe(3);
  });

  it('survives a round trip through the state store as plain JSON data and resumes identically', async () => {
    const store = new InMemoryContinualStateStore();
    const original = new ReservoirBuffer({ capacity: 8, classBalanced: true, seed: 11 });
    for (let i = 0; i < 50; i++) original.offer(item(i, 2));
    const snapshot = original.snapshot();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    await store.saveReplay('stream-1', snapshot);
    const loaded = await store.loadReplay('stream-1');
    if (!loaded) throw new Error('not saved');
    expect(loaded).toEqual(snapshot);
    const restored = ReservoirBuffer.fromSnapshot(loaded);
    for (let i = 50; i < 120; i++) {
      original.offer(item(i, 2));
      restored.offer(item(i, 2));
    }
    expect(restored.snapshot()).toEqual(original.snapshot());
    expect(restored.sample(6)).toEqual(original.sample(6));
    expect(await store.loadReplay('unknown')).toBeUndefined();
  });

  it('rejects a capacity below 1 with a typed error', () => {
    expect(() => new ReservoirBuffer({ capacity: 0 })).toThrow(
      /'capacity' must be an integer >= 1, but got 0/,
    );
  });
});
