import type { ExpertGradientFactors } from '../layer/expert-gradients.js';
import type { PeerLayer } from '../layer/peer-layer.js';
import { coalesceExpertGradients } from './coalesce-expert-gradients.js';

export interface SparseAdamOptions {
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/**
 * Lazy ("sparse") Adam for a PEER layer's expert tables: each step updates only the experts that received
 * gradient (as TF's LazyAdam and PyTorch's SparseAdam do), so a step costs O(retrieved rows * d), not
 * O(N * d). Moments are allocated per sub-key row on first touch, so frozen or never-retrieved regions of a
 * million-expert pool cost no optimizer memory. Experts below `layer.frozenExperts` are never updated.
 */
export class SparseExpertAdam {
  private readonly lr: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private stepCount = 0;
  /** First and second moments per table, one chunk per sub-key row, allocated on first touch. */
  private readonly moments = {
    u: { m: [] as (Float32Array | undefined)[], v: [] as (Float32Array | undefined)[] },
    v: { m: [] as (Float32Array | undefined)[], v: [] as (Float32Array | undefined)[] },
  };
  private slotOfExpert = new Int32Array(0);

  constructor(
    private readonly layer: PeerLayer,
    options: SparseAdamOptions,
  ) {
    this.lr = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
  }

  /** Applies the factored gradients collected by the layer since the last step; returns experts updated. */
  step(parts: readonly ExpertGradientFactors[] = this.layer.gradients.drain()): number {
    const { experts, kernels, frozenExperts } = this.layer;
    const capacity = experts.capacityRows * experts.cols;
    if (this.slotOfExpert.length < capacity) this.slotOfExpert = new Int32Array(capacity).fill(-1);
    const grads = coalesceExpertGradients(
      parts,
      kernels,
      experts.d,
      frozenExperts,
      this.slotOfExpert,
      this.layer.heap,
    );
    try {
      if (grads.ids.length === 0) return 0;
      this.stepCount++;
      this.applyAdam('u', grads.ids, grads.gradU);
      this.applyAdam('v', grads.ids, grads.gradV);
      return grads.ids.length;
    } finally {
      grads.release();
    }
  }

  private applyAdam(table: 'u' | 'v', ids: Int32Array, grads: Float32Array): void {
    const { experts } = this.layer;
    const d = experts.d;
    const params = experts[table].data;
    const { beta1, beta2, epsilon } = this;
    // Bias correction folded into the step size (Kingma & Ba 2015, Algorithm 1, last paragraph of §2).
    const alpha = (this.lr * Math.sqrt(1 - beta2 ** this.stepCount)) / (1 - beta1 ** this.stepCount);
    for (let u = 0; u < ids.length; u++) {
      const id = ids[u] ?? 0;
      const { m, v, offset } = this.momentsFor(table, id);
      const p0 = id * d;
      const g0 = u * d;
      for (let i = 0; i < d; i++) {
        const g = grads[g0 + i] ?? 0;
        const mi = beta1 * (m[offset + i] ?? 0) + (1 - beta1) * g;
        const vi = beta2 * (v[offset + i] ?? 0) + (1 - beta2) * g * g;
        m[offset + i] = mi;
        v[offset + i] = vi;
        params[p0 + i] = (params[p0 + i] ?? 0) - (alpha * mi) / (Math.sqrt(vi) + epsilon);
      }
    }
  }

  private momentsFor(table: 'u' | 'v', id: number): { m: Float32Array; v: Float32Array; offset: number } {
    const { cols, d } = this.layer.experts;
    const row = Math.floor(id / cols);
    const chunks = this.moments[table];
    const m = chunks.m[row] ?? new Float32Array(cols * d);
    const v = chunks.v[row] ?? new Float32Array(cols * d);
    chunks.m[row] = m;
    chunks.v[row] = v;
    return { m, v, offset: (id - row * cols) * d };
  }
}
