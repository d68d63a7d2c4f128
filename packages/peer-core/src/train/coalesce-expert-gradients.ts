import type { KernelHeap } from '../kernels/kernel-heap.js';
import type { PeerKernels } from '../kernels/peer-kernels.js';
import type { ExpertGradientFactors } from '../layer/expert-gradients.js';

/** Per-expert gradient rows: `gradU`/`gradV` row u belongs to expert `ids[u]`. */
export interface CoalescedExpertGradients {
  readonly ids: Int32Array;
  readonly gradU: Float32Array;
  readonly gradV: Float32Array;
  /** Returns the gradient rows' heap memory; the arrays must not be used afterwards. */
  release(): void;
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
  heap?: KernelHeap,
): CoalescedExpertGradients {
  const unique: number[] = [];
  for (const part of parts) {
    for (const id of part.ids) {
      if (id < minId || (slotOf[id] ?? 0) >= 0) continue;
      slotOf[id] = unique.length;
      unique.push(id);
    }
  }
  // In the kernel heap the scatters run zero-copy (the rows can be tens of MB at a million experts).
  const rowsBytes = Math.max(1, unique.length * d * 4);
  const ptrU = heap ? heap.allocZeroed(rowsBytes) : 0;
  const ptrV = heap ? heap.allocZeroed(rowsBytes) : 0;
  const gradU = heap ? heap.f32(ptrU, unique.length * d) : new Float32Array(unique.length * d);
  const gradV = heap ? heap.f32(ptrV, unique.length * d) : new Float32Array(unique.length * d);
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
  const release = () => {
    if (!heap) return;
    heap.free(ptrU);
    heap.free(ptrV);
  };
  return { ids: Int32Array.from(unique), gradU, gradV, release };
}
