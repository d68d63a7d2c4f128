// Product-key top-k (Lample et al. 2019): the best k of the k*k sums score1[a] + score2[b], ordered by
// score desc, then row rank a asc, then column rank b asc. That tie-break (not expert id) is what makes
// the result provably equal to brute force even when float32 rounding makes two sums equal (see
// peer-kernels.ts). Candidates are visited in (a, b) order, so an equal sum never displaces an earlier
// one. Both input rows are sorted descending (they come from topkRows): for fixed a the sums are
// non-increasing in b, and the best sum of row a is score1[a] + score2[0], so once a sum is not above the
// current k-th score, the rest of that row (or of all later rows) cannot enter.

/** True when a later-visited candidate with score s ranks before the entry with score t. */
function before(s: f32, t: f32): bool {
  return s > t;
}

/** Inserts into the sorted list of `count` entries, dropping the entry at `count` if the list was full. */
function insert(
  oS: usize,
  oId: usize,
  oA: usize,
  oB: usize,
  count: usize,
  s: f32,
  id: i32,
  a: i32,
  b: i32,
): void {
  let p = count;
  while (p > 0) {
    const q = (p - 1) << 2;
    const ps = load<f32>(oS + q);
    const pid = load<i32>(oId + q);
    if (!before(s, ps)) break;
    const w = p << 2;
    store<f32>(oS + w, ps);
    store<i32>(oId + w, pid);
    store<i32>(oA + w, load<i32>(oA + q));
    store<i32>(oB + w, load<i32>(oB + q));
    p--;
  }
  const w = p << 2;
  store<f32>(oS + w, s);
  store<i32>(oId + w, id);
  store<i32>(oA + w, a);
  store<i32>(oB + w, b);
}

function sum(x: f32, y: f32): f32 {
  const s = x + y;
  // biome-ignore lint/suspicious/noGlobalIsNan: AssemblyScript's isNaN<f32> is a typed builtin (f32.ne).
  return isNaN(s) ? -Infinity : s;
}

/** Inputs [rows, k]; outputs [rows, k]. Requires 1 <= k <= 64 (checked by the caller). */
export function productTopk(
  score1: usize,
  index1: usize,
  score2: usize,
  index2: usize,
  rows: i32,
  k: i32,
  cols2: i32,
  outId: usize,
  outScore: usize,
  outA: usize,
  outB: usize,
): void {
  const kk = <usize>k;
  for (let r: usize = 0; r < <usize>rows; r++) {
    const base = (r * kk) << 2;
    const s1 = score1 + base;
    const i1 = index1 + base;
    const s2 = score2 + base;
    const i2 = index2 + base;
    const oS = outScore + base;
    const oId = outId + base;
    const oA = outA + base;
    const oB = outB + base;
    const lastS = oS + ((kk - 1) << 2);
    const top2 = load<f32>(s2);
    let count: usize = 0;
    for (let a: usize = 0; a < kk; a++) {
      const sa = load<f32>(s1 + (a << 2));
      if (count === kk && sum(sa, top2) <= load<f32>(lastS)) break;
      const ia = load<i32>(i1 + (a << 2)) * cols2;
      for (let b: usize = 0; b < kk; b++) {
        const s = sum(sa, load<f32>(s2 + (b << 2)));
        const id = ia + load<i32>(i2 + (b << 2));
        if (count < kk) {
          insert(oS, oId, oA, oB, count, s, id, <i32>a, <i32>b);
          count++;
          continue;
        }
        if (!before(s, load<f32>(lastS))) break;
        insert(oS, oId, oA, oB, kk - 1, s, id, <i32>a, <i32>b);
      }
    }
  }
}
