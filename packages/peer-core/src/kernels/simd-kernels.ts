import { HeapCall } from './heap-call.js';
import { checkExperts, checkProductTopk, checkScatter, checkTopkRows } from './kernel-checks.js';
import { KernelHeap } from './kernel-heap.js';
import { createKernelRunner } from './kernel-runner.js';
import type { PeerKernels } from './peer-kernels.js';
import { checkIdsInWasm, runExperts } from './simd-experts.js';
import { instantiateSimd } from './simd-module.js';

/** Below this many scores a second thread costs more than it saves. */
const SPLIT_MIN_SCORES = 1 << 16;

/** PeerKernels backed by peer-simd.wasm, plus the heap its memory lives in. */
export interface SimdKernels extends PeerKernels {
  readonly name: 'simd';
  /** Arrays viewing this heap's memory are passed to wasm without copying. */
  readonly heap: KernelHeap;
  /** 1, or 2 when large calls are split with a worker thread. */
  readonly threads: 1 | 2;
  /** Stops the worker thread, if any (it is unref'ed, so this is optional). */
  close(): Promise<void>;
}

export interface SimdKernelOptions {
  /**
   * 2 splits large topkRows/productTopk/expert calls in halves between this thread and a persistent worker
   * on the same shared memory. Default 1.
   */
  readonly threads?: 1 | 2;
}

/**
 * WebAssembly SIMD kernels over `heap` (a new 4 GiB-capable heap by default). Any typed arrays are accepted,
 * but only arrays allocated in `kernels.heap` (`heap.f32(heap.alloc(bytes), n)`) are zero-copy; others are
 * copied into scratch and back on every call, which for an expert table means copying the whole table.
 * Allocate tables and hot buffers in the heap.
 *
 * @example
 * const kernels = createSimdKernels();
 * const ptr = kernels.heap.alloc(rows * cols * 4);
 * const scores = kernels.heap.f32(ptr, rows * cols); // fill, then:
 * kernels.topkRows(scores, rows, cols, 16, outIndex, outScore);
 */
export function createSimdKernels(
  heap: KernelHeap = new KernelHeap(),
  options: SimdKernelOptions = {},
): SimdKernels {
  const wasm = instantiateSimd(heap.memory);
  heap.useZeroFill((ptr, bytes) => wasm.zeroBytes(ptr, bytes));
  const runner = createKernelRunner(wasm, heap.memory, options.threads ?? 1);
  return {
    name: 'simd',
    heap,
    threads: runner.threads,
    close: () => runner.close(),
    topkRows(scores, rows, cols, k, outIndex, outScore) {
      checkTopkRows(scores, rows, cols, k, outIndex, outScore);
      if (rows === 0) return;
      const call = new HeapCall(heap);
      const s = call.input(scores, rows * cols);
      const oi = call.output(outIndex, rows * k);
      const os = call.output(outScore, rows * k);
      // Per-thread working list: roundUp(k, 4) scores and as many indices.
      const listLength = 2 * Math.ceil(k / 4) * 4;
      const lists = call.scratch(2 * listLength);
      call.run(() => {
        runner.run('topkRows', rows, rows * cols >= SPLIT_MIN_SCORES, (from, to, half) => [
          call.ptr(s) + from * cols * 4,
          to - from,
          cols,
          k,
          call.ptr(oi) + from * k * 4,
          call.ptr(os) + from * k * 4,
          call.ptr(lists) + half * listLength * 4,
        ]);
      });
    },
    productTopk(score1, index1, score2, index2, rows, k, cols2, outId, outScore, outA, outB) {
      checkProductTopk([score1, index1, score2, index2], [outId, outScore, outA, outB], rows, k, cols2);
      if (rows === 0) return;
      const n = rows * k;
      const call = new HeapCall(heap);
      const h = [score1, index1, score2, index2].map((array) => call.input(array, n));
      h.push(...[outId, outScore, outA, outB].map((array) => call.output(array, n)));
      call.run(() => {
        runner.run('productTopk', rows, rows * k * k >= SPLIT_MIN_SCORES, (from, to) => {
          const [s1, i1, s2, i2, id, sc, a, b] = h.map(
            (handle) => call.ptr(handle) + from * k * 4,
          ) as Pointers8;
          return [s1, i1, s2, i2, to - from, k, cols2, id, sc, a, b];
        });
      });
    },
    expertsForward(args) {
      const numExperts = checkExperts('expertsForward', args);
      if (args.tokens > 0) runExperts(wasm, runner, heap, args, numExperts);
    },
    expertsBackward(args) {
      const numExperts = checkExperts('expertsBackward', args);
      if (args.tokens > 0) runExperts(wasm, runner, heap, args, numExperts);
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
      // Not split: two threads could add into the same output row.
      call.run(() => {
        checkIdsInWasm(wasm, heap, call.ptr(r), 'rowOf', count, numRows);
        checkIdsInWasm(wasm, heap, call.ptr(vo), 'vecOf', count, numVecs);
        wasm.scatterRank1(call.ptr(o), d, call.ptr(r), call.ptr(c), call.ptr(v), call.ptr(vo), count);
      });
    },
  };
}

type Pointers8 = [number, number, number, number, number, number, number, number];

let shared: SimdKernels | undefined;

/** The process-wide SIMD kernels (one thread) and heap, created (and the .wasm loaded) on first use. */
export function getSimdKernels(): SimdKernels {
  shared ??= createSimdKernels();
  return shared;
}
