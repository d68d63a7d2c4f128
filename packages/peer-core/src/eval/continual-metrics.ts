import { PeerShapeError } from '../errors/peer-error.js';

/** Summary metrics of an accuracy matrix (fractions in [0, 1]; differences may be negative). */
export interface ContinualMetrics {
  /** Tasks T. */
  readonly tasks: number;
  /** Average accuracy after the last task: (1/T) sum_j R[T-1][j]. */
  readonly acc: number;
  /** Backward transfer: (1/(T-1)) sum_{j<T-1} (R[T-1][j] - R[j][j]); negative means forgetting. NaN if T = 1. */
  readonly bwt: number;
  /** Forward transfer: (1/(T-1)) sum_{j>=1} (R[j-1][j] - b_j). NaN without baselines or if T = 1. */
  readonly fwt: number;
  /** Average forgetting (Chaudhry et al. 2018, max-based); NaN if T = 1. */
  readonly forgetting: number;
  /** R[T-1][j] for every j. */
  readonly final: readonly number[];
}

/**
 * ACC, BWT and FWT of Lopez-Paz & Ranzato (2017, "Gradient Episodic Memory", §5) and forgetting of Chaudhry
 * et al. (2018, "Riemannian Walk", §4): f_j = max_{l in 0..T-2} R[l][j] - R[T-1][j], averaged over j < T-1 (the
 * max-based definition, whose max runs over every earlier step, including those before task j was learned).
 * `accuracy[i][j]` is the accuracy on task j after training task i (0-based, T x T). `baseline[j]` is task
 * j's accuracy at random initialisation, which FWT needs.
 */
export function continualMetrics(
  accuracy: readonly (readonly number[])[],
  baseline?: readonly number[],
): ContinualMetrics {
  const T = accuracy.length;
  if (T === 0 || accuracy.some((row) => row.length !== T)) {
    throw new PeerShapeError(
      `accuracy matrix must be T x T with T >= 1, but has rows of lengths [${accuracy.map((r) => r.length)}]`,
    );
  }
  if (baseline && baseline.length !== T)
    throw new PeerShapeError(`baseline has ${baseline.length} entries for ${T} tasks`);
  const R = (i: number, j: number) => accuracy[i]?.[j] ?? Number.NaN;
  const final = Array.from({ length: T }, (_, j) => R(T - 1, j));
  const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  const older = Array.from({ length: T - 1 }, (_, j) => j);
  const acc = mean(final);
  const bwt = mean(older.map((j) => R(T - 1, j) - R(j, j)));
  const fwt = baseline ? mean(older.map((j) => R(j, j + 1) - (baseline[j + 1] ?? Number.NaN))) : Number.NaN;
  const forgetting = mean(older.map((j) => Math.max(...older.map((l) => R(l, j))) - R(T - 1, j)));
  return { tasks: T, acc, bwt, fwt, forgetting, final };
}
