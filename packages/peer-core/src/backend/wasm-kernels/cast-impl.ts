import type { HeapArray } from './wasm-heap.js';

/**
 * Copies `x` into `out` converting to `out`'s element type. To bool means `x != 0` (NaN is true), as
 * on tfjs's cpu backend; every other conversion is the typed-array one (float to int32 truncates and
 * wraps, exactly like cpu's `Int32Array.from`).
 */
export function castImpl(x: HeapArray, out: HeapArray, toBool: boolean): void {
  if (!toBool) {
    out.set(x);
    return;
  }
  for (let i = 0; i < x.length; i++) out[i] = x[i] !== 0 ? 1 : 0;
}
