/**
 * Seeded pseudo-random numbers (mulberry32): every random choice in the project takes one of these,
 * so tests and benchmarks reproduce exactly.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Fills `out` with normal(0, std) values. */
  fillNormal(out: Float32Array, std: number): Float32Array;
  /** Fills `out` with uniform values in [lo, hi). */
  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array;
}

/** @example const rng = createRandom(42); rng.int(10) */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  let spare: number | undefined;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    // 1 - next() is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - next()));
    const theta = 2 * Math.PI * next();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    normal,
    fillNormal(out, std) {
      for (let i = 0; i < out.length; i++) out[i] = normal() * std;
      return out;
    },
    fillUniform(out, lo, hi) {
      const span = hi - lo;
      for (let i = 0; i < out.length; i++) out[i] = lo + next() * span;
      return out;
    },
  };
}
