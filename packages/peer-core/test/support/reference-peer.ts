/**
 * A float64, loop-by-loop PEER forward for a *fixed* expert selection: the naive reference that the layer's
 * forward and every gradient are checked against (by central finite differences).
 */
export interface ReferenceParams {
  d: number;
  heads: number;
  dKey: number;
  keyHeads: number;
  rows: number;
  cols: number;
  k: number;
  relu: boolean;
  /** Batch-norm of each query half; running statistics used unless `training`. */
  batchNorm: { eps: number; training: boolean; mean: Float64Array[]; variance: Float64Array[] } | null;
  w1: Float64Array; // [d, heads * dKey/2]: first query half of every head
  w2: Float64Array; // [d, heads * dKey/2]: second half
  gamma1: Float64Array;
  beta1: Float64Array;
  gamma2: Float64Array;
  beta2: Float64Array;
  c1: Float64Array; // [keyHeads, rows, half]
  c2: Float64Array; // [keyHeads, cols, half]
  u: Float64Array; // [N, d]
  v: Float64Array; // [N, d]
}

/** Selection, token-major [tokens, heads, k]: sub-key row and column of each retrieved expert. */
export interface FixedSelection {
  rowIndex: Int32Array;
  colIndex: Int32Array;
}

export function gelu(a: number): number {
  return 0.5 * a * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a + 0.044715 * a * a * a)));
}

export function referenceForward(p: ReferenceParams, x: Float64Array, tokens: number, sel: FixedSelection) {
  const { d, heads, dKey, k } = p;
  const half = dKey / 2;
  const width = heads * half;
  const halves = [
    [p.w1, p.gamma1, p.beta1],
    [p.w2, p.gamma2, p.beta2],
  ] as const;
  const [q1, q2] = halves.map(([w, gamma, beta], which) => {
    const q = new Float64Array(tokens * width);
    for (let b = 0; b < tokens; b++)
      for (let o = 0; o < width; o++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += (x[b * d + i] ?? 0) * (w[i * width + o] ?? 0);
        q[b * width + o] = s;
      }
    if (!p.batchNorm) return q;
    for (let o = 0; o < width; o++) {
      let mean = p.batchNorm.mean[which]?.[o] ?? 0;
      let variance = p.batchNorm.variance[which]?.[o] ?? 1;
      if (p.batchNorm.training) {
        mean = 0;
        for (let b = 0; b < tokens; b++) mean += q[b * width + o] ?? 0;
        mean /= tokens;
        variance = 0;
        for (let b = 0; b < tokens; b++) variance += ((q[b * width + o] ?? 0) - mean) ** 2;
        variance /= tokens;
      }
      for (let b = 0; b < tokens; b++) {
        const z = ((q[b * width + o] ?? 0) - mean) / Math.sqrt(variance + p.batchNorm.eps);
        q[b * width + o] = z * (gamma[o] ?? 0) + (beta[o] ?? 0);
      }
    }
    return q;
  }) as [Float64Array, Float64Array];
  const y = new Float64Array(tokens * d);
  const gates = new Float64Array(tokens * heads * k);
  for (let b = 0; b < tokens; b++)
    for (let h = 0; h < heads; h++) {
      const kh = p.keyHeads === 1 ? 0 : h;
      const logits = new Float64Array(k);
      for (let t = 0; t < k; t++) {
        const slot = (b * heads + h) * k + t;
        const i = sel.rowIndex[slot] ?? 0;
        const j = sel.colIndex[slot] ?? 0;
        let s = 0;
        for (let c = 0; c < half; c++) {
          s += (q1[b * width + h * half + c] ?? 0) * (p.c1[(kh * p.rows + i) * half + c] ?? 0);
          s += (q2[b * width + h * half + c] ?? 0) * (p.c2[(kh * p.cols + j) * half + c] ?? 0);
        }
        logits[t] = s;
      }
      const max = Math.max(...logits);
      const exps = Array.from(logits, (l) => Math.exp(l - max));
      const total = exps.reduce((a, e) => a + e, 0);
      for (let t = 0; t < k; t++) {
        const slot = (b * heads + h) * k + t;
        const g = (exps[t] ?? 0) / total;
        gates[slot] = g;
        const id = (sel.rowIndex[slot] ?? 0) * p.cols + (sel.colIndex[slot] ?? 0);
        let a = 0;
        for (let c = 0; c < d; c++) a += (p.u[id * d + c] ?? 0) * (x[b * d + c] ?? 0);
        const act = p.relu ? Math.max(0, a) : gelu(a);
        for (let c = 0; c < d; c++) y[b * d + c] = (y[b * d + c] ?? 0) + g * act * (p.v[id * d + c] ?? 0);
      }
    }
  return { y, gates };
}
