import { type KernelArgs, KernelWorker, type WorkerKernel } from './kernel-worker.js';
import type { PeerSimdExports } from './simd-module.js';
import { simdModule } from './simd-module.js';

/**
 * Runs a wasm kernel over an index range [0, total) of rows or tokens, either whole on the calling thread or
 * split in two halves: the second half on a KernelWorker, the first here. `args(from, to)` gives the kernel
 * arguments for a sub-range (pointers advanced to `from`).
 */
export interface KernelRunner {
  readonly threads: 1 | 2;
  run<K extends WorkerKernel>(
    kernel: K,
    total: number,
    worthSplitting: boolean,
    args: (from: number, to: number, half: 0 | 1) => KernelArgs<K>,
  ): void;
  close(): Promise<void>;
}

type AnyKernel = (...args: number[]) => void;

/** A runner over `wasm`; with threads = 2 it starts the worker thread now, so its start-up overlaps other work. */
export function createKernelRunner(
  wasm: PeerSimdExports,
  memory: WebAssembly.Memory,
  threads: 1 | 2,
): KernelRunner {
  const worker = threads === 2 ? new KernelWorker(simdModule(), memory) : undefined;
  return {
    threads,
    run(kernel, total, worthSplitting, args) {
      const fn = wasm[kernel] as unknown as AnyKernel;
      if (!worker || !worthSplitting || total < 2) {
        fn(...(args(0, total, 0) as number[]));
        return;
      }
      const half = total >> 1;
      worker.post(kernel, args(half, total, 1) as number[]);
      try {
        fn(...(args(0, half, 0) as number[]));
      } finally {
        // Scratch is freed after the call returns: never before the worker is done with it.
        worker.wait();
      }
    },
    async close() {
      await worker?.close();
    },
  };
}
