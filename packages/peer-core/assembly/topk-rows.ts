// Exact row-wise top-k (score descending, index ascending). Each row keeps a sorted working list (in scratch
// memory that JS provides, one per thread) and copies it to the output at the end of the row. Elements are
// scanned in index order, so an equal score never beats an earlier one: `>` against the k-th score is exact.
//
// What keeps the expensive part (insertions, with their unpredictable branches) rare and cheap:
// - a lower bound T on the final k-th score from one SIMD max pass: split the row into disjoint groups and
//   take each group's top one or two values; if those are >= k values, at least k elements are >= T = the
//   smallest of them, and no element below T can be in the top-k. Until the list is full only elements >= T
//   enter (for 1024 normal scores and k = 16, ~30 elements pass instead of ~80 insertions without it).
// - the scan compares 16 scores at a time against the threshold with f32x4 compares and touches scalars only
//   for the lanes that pass.
// - for k <= 32 an insertion is a branch-free f32x4 merge step (insertVec), 10-30% faster than shifting.

/** Inserts (s, j) into the sorted list of `count` entries (capacity > count), after every score >= s. */
function insertAt(outScore: usize, outIndex: usize, count: usize, s: f32, j: i32): void {
  let p = count;
  while (p > 0) {
    const prev = load<f32>(outScore + ((p - 1) << 2));
    if (prev >= s) break;
    store<f32>(outScore + (p << 2), prev);
    store<i32>(outIndex + (p << 2), load<i32>(outIndex + ((p - 1) << 2)));
    p--;
  }
  store<f32>(outScore + (p << 2), s);
  store<i32>(outIndex + (p << 2), j);
}

/**
 * The lower bound T described above, or -Infinity when there is none (row too short for the groups, or a
 * group without two finite scores: then every element is considered, NaN as -Infinity).
 * Groups: lane l of block b of whole f32x4 vectors. For k >= 8 each group contributes its two largest
 * values (so ceil(k / 8) blocks suffice and T is tighter: ~30 elements pass for k = 16 of 1024 normal
 * scores, against ~44 with one value per group); for smaller k, its largest.
 */
function lowerBound(row: usize, cols: usize, k: usize): f32 {
  const two = k >= 8;
  const blocks = two ? (k + 7) >> 3 : (k + 3) >> 2;
  const perBlock = (cols >> 2) / blocks;
  if (perBlock < 2) return -Infinity;
  const none = f32x4.splat(-Infinity);
  let lo = f32x4.splat(Infinity);
  let p = row;
  for (let b: usize = 0; b < blocks; b++) {
    // pmax(h, v) = h < v ? v : h and pmin(v, h) = h < v ? h : v are one instruction each (f32x4.max/min
    // are NaN-propagating sequences); with v as written here a NaN v leaves both accumulators unchanged,
    // so NaN counts as -Infinity.
    let first0 = none;
    let first1 = none;
    let second0 = none;
    let second1 = none;
    const end = p + (perBlock << 4);
    for (; p + 32 <= end; p += 32) {
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      if (two) {
        second0 = f32x4.pmax(second0, f32x4.pmin(v0, first0));
        second1 = f32x4.pmax(second1, f32x4.pmin(v1, first1));
      }
      first0 = f32x4.pmax(first0, v0);
      first1 = f32x4.pmax(first1, v1);
    }
    if (p < end) {
      const v0 = v128.load(p);
      if (two) second0 = f32x4.pmax(second0, f32x4.pmin(v0, first0));
      first0 = f32x4.pmax(first0, v0);
      p += 16;
    }
    // Merge the two accumulators' top-2 per lane: the 2nd largest of {a1 >= a2, b1 >= b2} is
    // max(min(a1, b1), max(a2, b2)).
    const merged = two
      ? f32x4.pmax(f32x4.pmin(first0, first1), f32x4.pmax(second0, second1))
      : f32x4.pmax(first0, first1);
    lo = f32x4.pmin(lo, merged);
  }
  const a = f32x4.extract_lane(lo, 0);
  const b = f32x4.extract_lane(lo, 1);
  const c = f32x4.extract_lane(lo, 2);
  const d = f32x4.extract_lane(lo, 3);
  return min(min(a, b), min(c, d));
}

/** Up to this k, insertions use insertVec (k / 4 vector steps each); beyond, the scalar shift that stops early. */
const MAX_VECTOR_K: usize = 32;

/**
 * Branch-free insertion of (s, j) into a sorted list of `nvec` f32x4 vectors (scores `ls`, indices `li`),
 * dropping the last entry: new[p] = old[p] if old[p] >= s, else s if old[p-1] >= s, else old[p-1].
 * Unused entries hold NaN, which compares false, so they sort after every real entry (-Infinity included).
 */
function insertVec(ls: usize, li: usize, nvec: usize, s: f32, j: i32): void {
  const sv = f32x4.splat(s);
  const jv = i32x4.splat(j);
  let prevS = f32x4.splat(Infinity);
  let prevI = i32x4.splat(0);
  const end = nvec << 4;
  for (let o: usize = 0; o < end; o += 16) {
    const cur = v128.load(ls + o);
    const curI = v128.load(li + o);
    const shifted = v128.shuffle<f32>(prevS, cur, 3, 4, 5, 6);
    const shiftedI = v128.shuffle<i32>(prevI, curI, 3, 4, 5, 6);
    const keep = f32x4.ge(cur, sv);
    const here = f32x4.ge(shifted, sv);
    v128.store(ls + o, v128.bitselect(cur, v128.bitselect(sv, shifted, here), keep));
    v128.store(li + o, v128.bitselect(curI, v128.bitselect(jv, shiftedI, here), keep));
    prevS = cur;
    prevI = curI;
  }
}

/** Adds (s, j) to the working list holding `count` entries (count <= k). */
function add(ls: usize, li: usize, count: usize, k: usize, nvec: usize, s: f32, j: i32): void {
  if (nvec !== 0) insertVec(ls, li, nvec, s, j);
  else insertAt(ls, li, count < k ? count : k - 1, s, j);
}

function topkRow(row: usize, cols: usize, k: usize, nvec: usize, ls: usize, li: usize): void {
  const last = ls + ((k - 1) << 2);
  for (let o: usize = 0; o < nvec << 4; o += 16) v128.store(ls + o, f32x4.splat(NaN));
  const bound = lowerBound(row, cols, k);
  let count: usize = 0;
  let j: usize = 0;
  let thr = bound;
  if (bound === -Infinity) {
    // No bound: the first k elements enter unconditionally, NaN as -Infinity.
    for (; j < k; j++) {
      let s = load<f32>(row + (j << 2));
      // biome-ignore lint/suspicious/noGlobalIsNan: AssemblyScript's isNaN<f32> is a typed builtin (f32.ne).
      if (isNaN(s)) s = -Infinity;
      add(ls, li, j, k, nvec, s, <i32>j);
    }
    count = k;
    thr = load<f32>(last);
  }
  // Until the list is full, elements >= bound enter; afterwards elements > the k-th score.
  // NaN lanes never pass either compare.
  for (; j + 16 <= cols; j += 16) {
    const p = row + (j << 2);
    const t = f32x4.splat(thr);
    let m0: v128, m1: v128, m2: v128, m3: v128;
    if (count === k) {
      m0 = f32x4.gt(v128.load(p), t);
      m1 = f32x4.gt(v128.load(p, 16), t);
      m2 = f32x4.gt(v128.load(p, 32), t);
      m3 = f32x4.gt(v128.load(p, 48), t);
    } else {
      m0 = f32x4.ge(v128.load(p), t);
      m1 = f32x4.ge(v128.load(p, 16), t);
      m2 = f32x4.ge(v128.load(p, 32), t);
      m3 = f32x4.ge(v128.load(p, 48), t);
    }
    if (!v128.any_true(v128.or(v128.or(m0, m1), v128.or(m2, m3)))) continue;
    let bits =
      i32x4.bitmask(m0) | (i32x4.bitmask(m1) << 4) | (i32x4.bitmask(m2) << 8) | (i32x4.bitmask(m3) << 12);
    // Lanes flagged against the old threshold are a superset of those passing the raised one: recheck each.
    while (bits !== 0) {
      const q = <usize>ctz(bits);
      bits &= bits - 1;
      const s = load<f32>(p + (q << 2));
      if (count < k) {
        add(ls, li, count++, k, nvec, s, <i32>(j + q));
        if (count === k) thr = load<f32>(last);
      } else if (s > thr) {
        add(ls, li, k, k, nvec, s, <i32>(j + q));
        thr = load<f32>(last);
      }
    }
  }
  for (; j < cols; j++) {
    const s = load<f32>(row + (j << 2));
    if (count < k) {
      if (!(s >= thr)) continue;
      add(ls, li, count++, k, nvec, s, <i32>j);
      if (count === k) thr = load<f32>(last);
    } else if (s > thr) {
      add(ls, li, k, k, nvec, s, <i32>j);
      thr = load<f32>(last);
    }
  }
}

/**
 * scores [rows, cols] -> outIndex/outScore [rows, k], each row sorted by score desc, index asc.
 * Requires 1 <= k <= cols (checked by the caller). `scratch` holds the working list: 8 * roundUp(k, 4) bytes.
 */
export function topkRows(
  scores: usize,
  rows: i32,
  cols: i32,
  k: i32,
  outIndex: usize,
  outScore: usize,
  scratch: usize,
): void {
  const c = <usize>cols;
  const kk = <usize>k;
  const padded = (kk + 3) & ~(<usize>3);
  const nvec = kk <= MAX_VECTOR_K ? padded >> 2 : 0;
  const ls = scratch;
  const li = scratch + (padded << 2);
  for (let r: usize = 0; r < <usize>rows; r++) {
    topkRow(scores + ((r * c) << 2), c, kk, nvec, ls, li);
    memory.copy(outScore + ((r * kk) << 2), ls, kk << 2);
    memory.copy(outIndex + ((r * kk) << 2), li, kk << 2);
  }
}
