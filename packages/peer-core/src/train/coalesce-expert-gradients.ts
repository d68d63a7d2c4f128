import type { PeerKernels } from '../kernels/peer-kernels.js';
import type { ExpertGradientFactors } from '../layer/expert-gradients.js';

/** Per-expert gradient rows: `gradU`/`gradV` row u belongs to expert `ids[u]`. */
export interface CoalescedExpertGradients {
  readonly ids: Int32Array;
  readonly gradU: Float32Array;
  readonly gradV: Float32Array;
}

/**
 * Sums the factored gradients of the experts with id >= `minId` into one row per distinct expert:
 * the sparse equivalent of dense dU/dV, costing O(slots * d) instead of O(N * d).
 * `slotOf` is caller-owned scratch of length >= the id space, all -1, and is left all -1.
 */
export function coalesceExpertGradients(
  parts: readonly ExpertGradientFactors[],
  kernels: PeerKernels,
  d: number,
  minId: number,
  slotOf: Int32Array,
): CoalescedExpertGradients {
  const unique: number[] = [];
  for (const part of parts) {
    for (const id of part.ids) {
      if (id < minId || (slotOf[id] ?? 0) >= 0) continue;
      slotOf[id] = unique.length;
      unique.push(id);
    }
  }
  const gradU = new Float32Array(unique.length * d);
  const gradV = new Float32Array(unique.length * d);
  for (const part of parts) {
    const n = part.ids.length;
    const rowOf = new Int32Array(n);
    const coefU = new Float32Array(n);
    const coefV = new Float32Array(n);
    const tokenOf = new Int32Array(n);
    let count = 0;
    for (let s = 0; s < n; s++) {
      const id = part.ids[s] ?? -1;
      if (id < minId) continue;
      rowOf[count] = slotOf[id] ?? 0;
      coefU[count] = part.coefU[s] ?? 0;
      coefV[count] = part.coefV[s] ?? 0;
      tokenOf[count] = Math.floor(s / part.slots);
      count++;
    }
    kernels.scatterRank1(gradU, d, rowOf, coefU, part.x, tokenOf, count);
    kernels.scatterRank1(gradV, d, rowOf, coefV, part.dy, tokenOf, count);
  }
  for (const id of unique) slotOf[id] = -1;
  return { ids: Int32Array.from(unique), gradU, gradV };
}
