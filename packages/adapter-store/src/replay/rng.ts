/**
 * A seeded pseudo-random generator whose whole state is one uint32, so it can be persisted in a column
 * and resumed after a restart with exactly the same future draws.
 */
export interface RandomSource {
  /** Next uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number;
  /** Current state; `factory(state)` continues the sequence from here. */
  readonly state: number;
}

/** Builds a generator from a persisted state (injectable, e.g. for tests). */
export type RngFactory = (state: number) => RandomSource;

/** mulberry32 (Tommy Ettinger): tiny, fast, passes gjrand/PractRand for this use; not cryptographic. */
export const mulberry32: RngFactory = (initial) => {
  let state = initial >>> 0;
  return {
    nextUint32() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    },
    get state() {
      return state;
    },
  };
};

/** Uniform integer in `[0, n)` for any `n ≤ 2^53`, from 53 random bits (two draws). */
export function randomIntBelow(rng: RandomSource, n: number): number {
  const high = rng.nextUint32() >>> 5; // 27 bits
  const low = rng.nextUint32() >>> 6; // 26 bits
  const unit = (high * 67108864 + low) / 9007199254740992; // [0, 1) with 53 bits
  return Math.floor(unit * n);
}
