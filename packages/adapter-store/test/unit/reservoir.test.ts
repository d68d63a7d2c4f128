import { describe, expect, it } from 'vitest';
import { mulberry32, planReservoir, randomIntBelow } from '../../src/index.js';

/** Applies a plan to an array reservoir (what the store does with rows). */
function run(capacity: number, pieces: number[], seed: number): number[] {
  const rng = mulberry32(seed);
  const slots: number[] = [];
  let seen = 0;
  for (const n of pieces) {
    for (const [slot, i] of planReservoir(capacity, seen, n, rng)) slots[slot] = seen + i;
    seen += n;
  }
  return slots;
}

describe('Algorithm R reservoir', () => {
  it('fills first, then keeps exactly `capacity` items; batching does not change the result', () => {
    expect(run(5, [3], 1)).toEqual([0, 1, 2]);
    const whole = run(50, [1000], 9);
    expect(whole).toHaveLength(50);
    expect(run(50, [1, 29, 370, 600], 9)).toEqual(whole);
    expect(run(50, [1000], 10)).not.toEqual(whole);
  });

  it('samples uniformly: each of 100 items is kept with probability capacity / n', () => {
    const counts = new Array<number>(100).fill(0);
    const trials = 4000;
    for (let s = 0; s < trials; s++)
      for (const item of run(10, [100], s + 1)) counts[item] = (counts[item] ?? 0) + 1;
    // Expected 400 per item (binomial sd ≈ 19): allow ±25%.
    for (const c of counts) expect(Math.abs(c - 400)).toBeLessThan(100);
  });

  it('draws integers in range from a resumable state', () => {
    const a = mulberry32(123);
    for (let i = 0; i < 10; i++) a.nextUint32();
    const b = mulberry32(a.state);
    expect(b.nextUint32()).toBe(a.nextUint32());
    const r = mulberry32(5);
    for (let i = 0; i < 1000; i++) {
      const x = randomIntBelow(r, 7);
      expect(x >= 0 && x < 7 && Number.isInteger(x)).toBe(true);
    }
  });
});
