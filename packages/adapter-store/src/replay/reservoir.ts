import { type RandomSource, randomIntBelow } from './rng.js';

/**
 * Vitter's Algorithm R (Vitter 1985, "Random sampling with a reservoir"): after `t` offered items every
 * one of them is in the reservoir with probability `capacity / t`. Offering items one call at a time or
 * all at once gives the same reservoir for the same generator, which is what lets the state live in a
 * database row between batches and restarts.
 *
 * Returns, for each slot written by this batch, the index (within `count`) of the item that ends up in
 * it; items overwritten later in the same batch are never written at all.
 */
export function planReservoir(
  capacity: number,
  seen: number,
  count: number,
  rng: RandomSource,
): Map<number, number> {
  const writes = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const t = seen + i; // 0-based position of this item in the whole stream
    if (t < capacity) {
      writes.set(t, i);
      continue;
    }
    const j = randomIntBelow(rng, t + 1); // uniform in [0, t]
    if (j < capacity) writes.set(j, i);
  }
  return writes;
}
