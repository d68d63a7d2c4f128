import { HeapCall } from './heap-call.js';
import {
  checkExperts,
  checkProductTopk,
  checkScatter,
  checkTopkRows,
  indexError,
} from './kernel-checks.js';
import { KernelHeap } from './kernel-heap.js';
import type { ExpertTableView, ExpertsBackwardArgs, ExpertsForwardArgs, PeerKernels } from './peer-kernels.js';
import { instantiateSimd, type PeerSimdExports } from './simd-module.js';

/** PeerKernels backed by peer-simd.wasm, plus the heap its memory lives in. */
export interface SimdKernels extends PeerKernels {
  readonly name: 'simd';
  /** Arrays viewing this heap's memory are passed to wasm without copying. */
  readonly heap: KernelHeap;
}

/**
 * WebAssembly SIMD kernels over `heap` (a new 4 GiB-capable heap by default). Any typed arrays are accepted,
 * but only arrays allocated in `kernels.heap` (`heap.f32(heap.alloc(bytes), n)`) are zero-copy; others are
 * copied into scratch and back on every call, which for an expert table means copying the whole table.
 * Allocate tables and hot buffers in the heap, and re-fetch views after any allocation.
 *
 * @example
 * const kernels = createSimdKernels();
 * const ptr = kernels.heap.alloc(rows * cols * 4);
 * const scores = kernels.heap.f32(ptr, rows * cols); // fill, then:
 * kernels.topkRows(scores, rows, cols, 16, outIndex, outScore);
 */
export function createSimdKernels(heap: KernelHeap = new KernelHeap()): SimdKernels {
  const wasm = instantiateSimd(heap.memory);
  const checkIds = (call: HeapCall, handle: number, field: string, count: number, limit: number): void => {
    const bad = wasm.firstOutOfRange(call.ptr(handle), count, limit);
    if (bad >= 0) throw indexError(field, bad, heap.i32(call.ptr(handle), count)[bad] as number, limit);
  };
  return {
    name: 'simd',
    heap,
    topkRows(scores, rows, cols, k, outIndex, outScore) {
      checkTopkRows(scores, rows, cols, k, outIndex, outScore);
      if (rows === 0) return;
      const call = new HeapCall(heap);
      const s = call.input(scores, rows * cols);
      const oi = call.output(outIndex, rows * k);
      const os = call.output(outScore, rows * k);
      const list = call.scratch(2 * (Math.ceil(k / 4) * 4));
      call.run(() => wasm.topkRows(call.ptr(s), rows, cols, k, call.ptr(oi), call.ptr(os), call.ptr(list)));
    },
    productTopk(score1, index1, score2, index2, rows, k, cols2, outId, outScore, outA, outB) {
      checkProductTopk([score1, index1, score2, index2], [outId, outScore, outA, outB], rows, k, cols2);
      if (rows === 0) return;
      const n = rows * k;
      const call = new HeapCall(heap);
      const h = [score1, index1, score2, index2].map((array) => call.input(array, n));
      h.push(...[outId, outScore, outA, outB].map((array) => call.output(array, n)));
      call.run(() => {
        const [s1, i1, s2, i2, id, sc, a, b] = h.map((handle) => call.ptr(handle)) as Pointers8;
        wasm.productTopk(s1, i1, s2, i2, rows, k, cols2, id, sc, a, b);
      });
    },
    expertsForward(args) {
      const numExperts = checkExperts('expertsForward', args);
      if (args.tokens === 0) return;
      runExperts(wasm, heap, args, numExperts, checkIds, false);
    },
    expertsBackward(args) {
      const numExperts = checkExperts('expertsBackward', args);
      if (args.tokens === 0) return;
      runExperts(wasm, heap, args, numExperts, checkIds, true);
    },
    scatterRank1(out, d, rowOf, coef, vecs, vecOf, count) {
      const { numRows, numVecs } = checkScatter(out, d, rowOf, coef, vecs, vecOf, count);
      if (count === 0) return;
      const call = new HeapCall(heap);
      const o = call.inout(out, numRows * d);
      const r = call.input(rowOf, count);
      const c = call.input(coef, count);
      const v = call.input(vecs, numVecs * d);
      const vo = call.input(vecOf, count);
      call.run(() => {
        checkIds(call, r, 'rowOf', count, numRows);
        checkIds(call, vo, 'vecOf', count, numVecs);
        wasm.scatterRank1(call.ptr(o), d, call.ptr(r), call.ptr(c), call.ptr(v), call.ptr(vo), count);
      });
    },
  };
}

type Pointers8 = [number, number, number, number, number, number, number, number];

type IdCheck = (call: HeapCall, handle: number, field: string, count: number, limit: number) => void;

/** Binds a table's rows [0, numExperts) (zero-copy when the table lives in the heap). */
function bindTable(call: HeapCall, table: ExpertTableView, d: number, numExperts: number): number {
  const rows = table.data.subarray(table.offset, table.offset + numExperts * d);
  return call.input(rows, numExperts * d);
}

function runExperts(
  wasm: PeerSimdExports,
  heap: KernelHeap,
  args: ExpertsForwardArgs | ExpertsBackwardArgs,
  numExperts: number,
  checkIds: IdCheck,
  backward: boolean,
): void {
  const { tokens, d, slots, activation } = args;
  const n = tokens * slots;
  const call = new HeapCall(heap);
  const ids = call.input(args.ids, n);
  const gates = call.input(args.gates, n);
  const u = bindTable(call, args.u, d, numExperts);
  const v = bindTable(call, args.v, d, numExperts);
  if (!backward) {
    const x = call.input(args.x, tokens * d);
    const out = call.output((args as ExpertsForwardArgs).out, tokens * d);
    const preact = call.output(args.preact, n);
    call.run(() => {
      checkIds(call, ids, 'ids', n, numExperts);
      const p = (h: number): number => call.ptr(h);
      wasm.expertsForward(p(x), tokens, d, p(ids), p(gates), slots, p(u), p(v), activation, p(out), p(preact));
    });
    return;
  }
  const b = args as ExpertsBackwardArgs;
  const dy = call.input(b.dy, tokens * d);
  const preact = call.input(b.preact, n);
  const dx = call.output(b.dx, tokens * d);
  const dgates = call.output(b.dgates, n);
  const coefU = call.output(b.coefU, n);
  const coefV = call.output(b.coefV, n);
  call.run(() => {
    checkIds(call, ids, 'ids', n, numExperts);
    const p = (h: number): number => call.ptr(h);
    wasm.expertsBackward(
      p(dy),
      tokens,
      d,
      p(ids),
      p(gates),
      slots,
      p(u),
      p(v),
      p(preact),
      activation,
      p(dx),
      p(dgates),
      p(coefU),
      p(coefV),
    );
  });
}

let shared: SimdKernels | undefined;

/** The process-wide SIMD kernels and heap, created (and the .wasm loaded) on first use. */
export function getSimdKernels(): SimdKernels {
  shared ??= createSimdKernels();
  return shared;
}
