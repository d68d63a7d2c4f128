import { PeerConfigError, PeerShapeError } from '../errors/peer-error.js';
import type { PeerRetrieval } from '../layer/peer-layer.js';

/** Usage figures of one PEER layer over a data set (Lample et al. 2019 §4.3; PEER Table 2). */
export interface ExpertUsageStats {
  /** Experts in the pool. */
  readonly numExperts: number;
  /** Experts with non-zero gate mass. */
  readonly usedExperts: number;
  /** usedExperts / numExperts: the fraction of the pool the data set reached. */
  readonly usage: number;
  /**
   * KL(z ‖ uniform) in nats, z = gate mass normalised to sum 1: 0 when every expert gets the same mass,
   * log(numExperts) when one expert gets all of it. NaN when no mass was recorded.
   */
  readonly unevenness: number;
  /** Sum of all gate mass (tokens x heads when gates are softmaxes per head). */
  readonly totalMass: number;
}

/**
 * Accumulates gate mass per expert id over retrievals (from `PeerLayer.retrieveAsync` or `applyAsync`).
 *
 * @example
 * const usage = new ExpertUsage(layer.numExperts);
 * for (const x of batches) usage.add(await layer.retrieveAsync(x));
 * const { usage: fraction, unevenness } = usage.stats();
 */
export class ExpertUsage {
  /** Gate mass per expert id (float64: millions of small gates are summed). */
  readonly mass: Float64Array;

  constructor(readonly numExperts: number) {
    if (!Number.isInteger(numExperts) || numExperts < 1) {
      throw new PeerConfigError('numExperts', 'an integer >= 1', numExperts);
    }
    this.mass = new Float64Array(numExperts);
  }

  /** Adds every (id, gate) pair of one retrieval. */
  add(retrieval: Pick<PeerRetrieval, 'ids' | 'gates'>): void {
    const { ids, gates } = retrieval;
    if (ids.length !== gates.length) {
      throw new PeerShapeError(`expert usage: ${ids.length} ids but ${gates.length} gates`);
    }
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] ?? -1;
      if (id < 0 || id >= this.numExperts) {
        throw new PeerConfigError(`ids[${i}]`, `in [0, ${this.numExperts - 1}]`, id);
      }
      this.mass[id] = (this.mass[id] ?? 0) + (gates[i] ?? 0);
    }
  }

  /** Clears the accumulated mass. */
  reset(): void {
    this.mass.fill(0);
  }

  stats(): ExpertUsageStats {
    return expertUsageStats(this.mass);
  }
}

/** {@link ExpertUsageStats} of a gate-mass vector (one entry per expert, non-negative). */
export function expertUsageStats(mass: ArrayLike<number>): ExpertUsageStats {
  const n = mass.length;
  let total = 0;
  let used = 0;
  for (let i = 0; i < n; i++) {
    const m = mass[i] ?? 0;
    if (m < 0) throw new PeerConfigError(`mass[${i}]`, '>= 0', m);
    total += m;
    if (m > 0) used++;
  }
  // KL(z ‖ u) = sum_i z_i log(z_i / (1/n)) = sum_i z_i log(n z_i), with 0 log 0 = 0.
  let kl = 0;
  for (let i = 0; i < n && total > 0; i++) {
    const z = (mass[i] ?? 0) / total;
    if (z > 0) kl += z * Math.log(n * z);
  }
  return {
    numExperts: n,
    usedExperts: used,
    usage: n === 0 ? 0 : used / n,
    unevenness: total > 0 ? kl : Number.NaN,
    totalMass: total,
  };
}
