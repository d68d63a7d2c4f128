/**
 * Float64 loop-by-loop references of the model pieces (nanoGPT semantics), for tests that compare the
 * tfjs implementations' forward and gradient against them.
 */

/** [n, k] x [k, m] -> [n, m], plus an optional bias [m]. */
export function matmul(
  a: Float64Array,
  b: Float64Array,
  n: number,
  k: number,
  m: number,
  bias?: Float64Array,
) {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = bias?.[j] ?? 0;
      for (let t = 0; t < k; t++) s += (a[i * k + t] ?? 0) * (b[t * m + j] ?? 0);
      out[i * m + j] = s;
    }
  return out;
}

export function geluScalar(a: number): number {
  return 0.5 * a * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (a + 0.044715 * a * a * a)));
}

export function layerNorm(
  x: Float64Array,
  n: number,
  d: number,
  gamma: Float64Array,
  beta: Float64Array,
  eps: number,
) {
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let j = 0; j < d; j++) mean += x[i * d + j] ?? 0;
    mean /= d;
    let variance = 0;
    for (let j = 0; j < d; j++) variance += ((x[i * d + j] ?? 0) - mean) ** 2;
    variance /= d;
    for (let j = 0; j < d; j++) {
      out[i * d + j] =
        (((x[i * d + j] ?? 0) - mean) / Math.sqrt(variance + eps)) * (gamma[j] ?? 0) + (beta[j] ?? 0);
    }
  }
  return out;
}

/** Gradients of sum(layerNorm(x) * w) in x, gamma and beta, in closed form (float64). */
export function layerNormGradients(
  x: Float64Array,
  n: number,
  d: number,
  gamma: Float64Array,
  w: Float64Array,
  eps: number,
) {
  const dx = new Float64Array(n * d);
  const dgamma = new Float64Array(d);
  const dbeta = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * d, (i + 1) * d);
    const mean = row.reduce((a, b) => a + b, 0) / d;
    const rstd = 1 / Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / d + eps);
    const xhat = Array.from(row, (v) => (v - mean) * rstd);
    const g = xhat.map((_, j) => (w[i * d + j] ?? 0) * (gamma[j] ?? 0));
    const meanG = g.reduce((a, b) => a + b, 0) / d;
    const meanGX = g.reduce((a, b, j) => a + b * (xhat[j] ?? 0), 0) / d;
    for (let j = 0; j < d; j++) {
      const h = xhat[j] ?? 0;
      dx[i * d + j] = rstd * ((g[j] ?? 0) - meanG - h * meanGX);
      dgamma[j] = (dgamma[j] ?? 0) + (w[i * d + j] ?? 0) * h;
      dbeta[j] = (dbeta[j] ?? 0) + (w[i * d + j] ?? 0);
    }
  }
  return { dx, dgamma, dbeta };
}

export interface AttentionParams {
  d: number;
  heads: number;
  wqkv: Float64Array; // [d, 3d]
  bqkv: Float64Array; // [3d]
  wproj: Float64Array; // [d, d]
  bproj: Float64Array; // [d]
}

/** Causal multi-head self-attention of x [batch * length, d]. */
export function attention(p: AttentionParams, x: Float64Array, batch: number, length: number): Float64Array {
  const { d, heads } = p;
  const hd = d / heads;
  const qkv = matmul(x, p.wqkv, batch * length, d, 3 * d, p.bqkv);
  const merged = new Float64Array(batch * length * d);
  const at = (row: number, part: number, h: number, j: number) =>
    qkv[row * 3 * d + part * d + h * hd + j] ?? 0;
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let t = 0; t < length; t++) {
        const scores: number[] = [];
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let j = 0; j < hd; j++) dot += at(b * length + t, 0, h, j) * at(b * length + s, 1, h, j);
          scores.push(dot / Math.sqrt(hd));
        }
        const max = Math.max(...scores);
        const w = scores.map((s) => Math.exp(s - max));
        const z = w.reduce((a, c) => a + c, 0);
        for (let j = 0; j < hd; j++) {
          let acc = 0;
          for (let s = 0; s <= t; s++) acc += ((w[s] ?? 0) / z) * at(b * length + s, 2, h, j);
          merged[(b * length + t) * d + h * hd + j] = acc;
        }
      }
  return matmul(merged, p.wproj, batch * length, d, d, p.bproj);
}

/** Central-difference gradient of scalar f at every entry of `params` (float64, eps 1e-5). */
export function numericGradient(params: Float64Array, f: () => number, eps = 1e-5): Float64Array {
  const grad = new Float64Array(params.length);
  for (let i = 0; i < params.length; i++) {
    const old = params[i] ?? 0;
    params[i] = old + eps;
    const up = f();
    params[i] = old - eps;
    const down = f();
    params[i] = old;
    grad[i] = (up - down) / (2 * eps);
  }
  return grad;
}

/** Largest |a - b| / (1 + |b|). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    const e = Math.abs((a[i] ?? Number.NaN) - (b[i] ?? 0)) / (1 + Math.abs(b[i] ?? 0));
    worst = Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.max(worst, e);
  }
  return worst;
}

/** sum_i x_i * w_i. */
export function dot(x: ArrayLike<number>, w: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] ?? 0) * (w[i] ?? 0);
  return s;
}
