/**
 * Brute-force top-k over every expert of a product-key grid: the reference that product-key retrieval must
 * equal exactly. Expert (i, j) scores `fround(s1[i] + s2[j])` — the same float32 sum product-key retrieval
 * uses. Order: score descending, then the rank of row i (rows sorted by s1 descending, index ascending), then
 * the rank of column j likewise. (With distinct sub-key scores that is simply "ties by row, then column".)
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
  for (let q = 0; q < queries; q++) {
    const s1 = Array.from(scores1.subarray(q * rows, (q + 1) * rows), nanToNegInf);
    const s2 = Array.from(scores2.subarray(q * cols, (q + 1) * cols), nanToNegInf);
    const rowRank = ranks(s1);
    const colRank = ranks(s2);
    const all: { id: number; score: number; ri: number; rj: number }[] = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const score = nanToNegInf(Math.fround((s1[i] ?? 0) + (s2[j] ?? 0)));
        all.push({ id: i * cols + j, score, ri: rowRank[i] ?? 0, rj: colRank[j] ?? 0 });
      }
    }
    all.sort((a, b) => (a.score !== b.score ? (b.score > a.score ? 1 : -1) : a.ri - b.ri || a.rj - b.rj));
    for (let t = 0; t < k; t++) {
      ids[q * k + t] = all[t]?.id ?? -1;
      scores[q * k + t] = all[t]?.score ?? Number.NaN;
    }
  }
  return { ids, scores };
}

/** Rank of each entry when sorted by value descending, then index ascending. */
function ranks(values: number[]): Int32Array {
  const order = values
    .map((_, i) => i)
    .sort((a, b) => {
      const va = values[a] ?? 0;
      const vb = values[b] ?? 0;
      return va !== vb ? (vb > va ? 1 : -1) : a - b;
    });
  const rank = new Int32Array(values.length);
  order.forEach((index, r) => {
    rank[index] = r;
  });
  return rank;
}

function nanToNegInf(v: number): number {
  return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
}
