// f32x4 building blocks over raw pointers (byte addresses, treated as unsigned so tables above 2 GiB work).
// `n` is a length in elements; any n is accepted: whole vectors first, then a scalar tail.
// Several independent accumulators hide the add latency and keep more row loads in flight, which is what a
// random-row gather is bound by.

/** Sums the four lanes in a fixed order ((l0 + l1) + (l2 + l3)). */
function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** Dot product of two f32 rows of length n; same summation order as the first result of `dot2`. */
export function dot(a: usize, x: usize, n: usize): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  const end8 = (n & ~(<usize>7)) << 2;
  let o: usize = 0;
  for (; o < end8; o += 32) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(x + o)));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o, 16), v128.load(x + o, 16)));
  }
  const end4 = (n & ~(<usize>3)) << 2;
  for (; o < end4; o += 16) {
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), v128.load(x + o)));
  }
  let sum = hsum(f32x4.add(a0, a1));
  const end = n << 2;
  for (; o < end; o += 4) sum += load<f32>(a + o) * load<f32>(x + o);
  return sum;
}

/**
 * Two dot products against the same vector `x`: `a . x` and `b . x`. Interleaving two gathered rows doubles
 * the memory-level parallelism of a random-row gather. Returns a.x; b.x is left in `dot2Second`.
 */
export function dot2(a: usize, b: usize, x: usize, n: usize): f32 {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let b0 = f32x4.splat(0);
  let b1 = f32x4.splat(0);
  const end8 = (n & ~(<usize>7)) << 2;
  let o: usize = 0;
  for (; o < end8; o += 32) {
    const x0 = v128.load(x + o);
    const x1 = v128.load(x + o, 16);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), x0));
    b0 = f32x4.add(b0, f32x4.mul(v128.load(b + o), x0));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(a + o, 16), x1));
    b1 = f32x4.add(b1, f32x4.mul(v128.load(b + o, 16), x1));
  }
  const end4 = (n & ~(<usize>3)) << 2;
  for (; o < end4; o += 16) {
    const x0 = v128.load(x + o);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(a + o), x0));
    b0 = f32x4.add(b0, f32x4.mul(v128.load(b + o), x0));
  }
  let sa = hsum(f32x4.add(a0, a1));
  let sb = hsum(f32x4.add(b0, b1));
  const end = n << 2;
  for (; o < end; o += 4) {
    const xv = load<f32>(x + o);
    sa += load<f32>(a + o) * xv;
    sb += load<f32>(b + o) * xv;
  }
  dot2Second = sb;
  return sa;
}

/** The second result of the last `dot2` call (wasm functions return one value without multi-value glue). */
export let dot2Second: f32 = 0;

/** y += c * v over n elements. */
export function axpy(y: usize, c: f32, v: usize, n: usize): void {
  const cv = f32x4.splat(c);
  const end16 = (n & ~(<usize>15)) << 2;
  let o: usize = 0;
  for (; o < end16; o += 64) {
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(cv, v128.load(v + o))));
    v128.store(y + o, f32x4.add(v128.load(y + o, 16), f32x4.mul(cv, v128.load(v + o, 16))), 16);
    v128.store(y + o, f32x4.add(v128.load(y + o, 32), f32x4.mul(cv, v128.load(v + o, 32))), 32);
    v128.store(y + o, f32x4.add(v128.load(y + o, 48), f32x4.mul(cv, v128.load(v + o, 48))), 48);
  }
  const end4 = (n & ~(<usize>3)) << 2;
  for (; o < end4; o += 16) {
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(cv, v128.load(v + o))));
  }
  const end = n << 2;
  for (; o < end; o += 4) store<f32>(y + o, load<f32>(y + o) + c * load<f32>(v + o));
}

/** y += ca * a, then y += cb * b (same rounding as two `axpy` calls, one pass over y). */
export function axpy2(y: usize, ca: f32, a: usize, cb: f32, b: usize, n: usize): void {
  const cav = f32x4.splat(ca);
  const cbv = f32x4.splat(cb);
  const end8 = (n & ~(<usize>7)) << 2;
  let o: usize = 0;
  for (; o < end8; o += 32) {
    const y0 = f32x4.add(v128.load(y + o), f32x4.mul(cav, v128.load(a + o)));
    const y1 = f32x4.add(v128.load(y + o, 16), f32x4.mul(cav, v128.load(a + o, 16)));
    v128.store(y + o, f32x4.add(y0, f32x4.mul(cbv, v128.load(b + o))));
    v128.store(y + o, f32x4.add(y1, f32x4.mul(cbv, v128.load(b + o, 16))), 16);
  }
  const end4 = (n & ~(<usize>3)) << 2;
  for (; o < end4; o += 16) {
    const y0 = f32x4.add(v128.load(y + o), f32x4.mul(cav, v128.load(a + o)));
    v128.store(y + o, f32x4.add(y0, f32x4.mul(cbv, v128.load(b + o))));
  }
  const end = n << 2;
  for (; o < end; o += 4) {
    const y0 = load<f32>(y + o) + ca * load<f32>(a + o);
    store<f32>(y + o, y0 + cb * load<f32>(b + o));
  }
}

/**
 * Touches every 64-byte line of a row of n f32 so that its cache misses (and TLB walk) start now, while
 * earlier rows are being computed: wasm has no prefetch instruction, and the out-of-order window alone
 * covers less than one 1 KiB row. Returns the OR of the loaded words so the loads are not dead code.
 */
export function touch(row: usize, n: usize): i32 {
  let acc = 0;
  const end = row + (n << 2);
  for (let p = row; p < end; p += 64) acc |= load<i32>(p);
  return acc;
}
