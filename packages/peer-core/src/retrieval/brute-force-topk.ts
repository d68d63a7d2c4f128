/**
 * Brute-force top-k over every expert of a product-key grid: the reference that product-key retrieval must
 * equal exactly. Expert (i, j) scores `fround(s1[i] + s2[j])` — the same float32 sum product-key retrieval
 * uses — and ties are broken by expert id ascending.
 * O(rows * cols) per query: for tests and small grids only.
 */
export function bruteForceTopk(
  scores1: Float32Array,
  scores2: Float32Array,
  queries: number,
  rows: number,
  cols: number,
  k: number,
): { ids: Int32Array; scores: Float32Array } {
  const ids = new Int32Array(queries * k);
  const scores = new Float32Array(queries * k);
  const n = rows * cols;
  const order = new Int32Array(n);
  const all = new Float32Array(n);
  for (let q = 0; q < queries; q++) {
    for (let i = 0; i < rows; i++) {
      const s1 = nanToNegInf(scores1[q * rows + i] ?? Number.NaN);
      for (let j = 0; j < cols; j++) {
        all[i * cols + j] = Math.fround(s1 + nanToNegInf(scores2[q * cols + j] ?? Number.NaN));
        order[i * cols + j] = i * cols + j;
      }
    }
    const sorted = Array.from(order).sort((a, b) => {
      const d = (all[b] ?? 0) - (all[a] ?? 0);
      return d !== 0 && !Number.isNaN(d) ? d : a - b;
    });
    for (let t = 0; t < k; t++) {
      const id = sorted[t] ?? -1;
      ids[q * k + t] = id;
      scores[q * k + t] = all[id] ?? Number.NaN;
    }
  }
  return { ids, scores };
}

function nanToNegInf(v: number): number {
  return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
}
