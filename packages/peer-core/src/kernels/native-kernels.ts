import { checkExperts, checkScatter, indexError } from './kernel-checks.js';
import type { NativeAddon } from './native-addon.js';
import type { PeerKernels } from './peer-kernels.js';
import type { SimdKernels } from './simd-kernels.js';

/** PeerKernels whose expert gather and gradient scatter run in the native addon (AVX2/FMA, no copies). */
export interface NativeKernels extends PeerKernels {
  readonly name: 'native';
  /** The SIMD kernels' heap: expert tables allocated there are read in place by both implementations. */
  readonly heap: SimdKernels['heap'];
  readonly threads: 1 | 2;
  readonly addon: NativeAddon;
  close(): Promise<void>;
}

/**
 * Native kernels for the memory-bound expert work, the WebAssembly SIMD ones (`simd`) for top-k and product
 * top-k (already within ~2x of the machine there, and exact-tie-break tested). `threads` 2 splits expert
 * calls over tokens on a second native thread.
 */
export function createNativeKernels(
  addon: NativeAddon,
  simd: SimdKernels,
  threads: 1 | 2 = 1,
): NativeKernels {
  return {
    name: 'native',
    heap: simd.heap,
    threads,
    addon,
    close: () => simd.close(),
    topkRows: (...args) => simd.topkRows(...args),
    productTopk: (...args) => simd.productTopk(...args),
    expertsForward(args) {
      const numExperts = checkExperts('expertsForward', args);
      if (args.tokens === 0) return;
      const { x, ids, gates, u, v, out, preact, tokens, d, slots, activation } = args;
      const bad = addon.expertsForward(
        x,
        ids,
        gates,
        u.data,
        u.offset,
        v.data,
        v.offset,
        out,
        preact,
        tokens,
        d,
        slots,
        activation,
        numExperts,
        threads,
      );
      if (bad >= 0) throw indexError('ids', bad, ids[bad] as number, numExperts);
    },
    expertsBackward(args) {
      const numExperts = checkExperts('expertsBackward', args);
      if (args.tokens === 0) return;
      const { dy, ids, gates, u, v, preact, dx, dgates, coefU, coefV, tokens, d, slots, activation } = args;
      const bad = addon.expertsBackward(
        dy,
        ids,
        gates,
        u.data,
        u.offset,
        v.data,
        v.offset,
        preact,
        dx,
        dgates,
        coefU,
        coefV,
        tokens,
        d,
        slots,
        activation,
        numExperts,
        threads,
      );
      if (bad >= 0) throw indexError('ids', bad, ids[bad] as number, numExperts);
    },
    scatterRank1(out, d, rowOf, coef, vecs, vecOf, count) {
      const { numRows, numVecs } = checkScatter(out, d, rowOf, coef, vecs, vecOf, count);
      if (count === 0) return;
      const bad = addon.scatterRank1(out, d, rowOf, coef, vecs, vecOf, count, numRows, numVecs);
      if (bad >= count) throw indexError('vecOf', bad - count, vecOf[bad - count] as number, numVecs);
      if (bad >= 0) throw indexError('rowOf', bad, rowOf[bad] as number, numRows);
    },
  };
}
