import { createRequire } from 'node:module';
import type os from 'node:os';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { writePthreadScript } from './wasm-pthread-script.js';

/**
 * Makes tfjs-backend-wasm 4.22's threaded-SIMD build run under Node. Opt-in (`wasmThreads >= 2`),
 * because it reaches into the backend's internals; test/backend/wasm-threads.test.ts pins its behaviour.
 *
 * Under Node the backend hard-codes `WASM_HAS_MULTITHREAD_SUPPORT = false` (tfjs issue #3830). Forcing
 * the flag fails because emscripten starts each pthread worker from a `blob:` URL, which Node's
 * `Worker` refuses, and sends the worker its main script as a Blob, which it cannot `importScripts`.
 * While the backend initialises we therefore:
 * 1. write a pthread worker script to a file (`wasm-pthread-script.ts`);
 * 2. swap `worker_threads.Worker` for a subclass that loads that file when given a `blob:` URL (a URL
 *    Node would reject anyway, so nothing else changes);
 * 3. report at least 2x the threads as CPUs: the C++ side caps threads at half the logical cores,
 *    which is 1 on a 2-core box.
 * Everything is restored when the backend is up; emscripten has by then cached the patched Worker
 * for the few pthreads it may still spawn.
 *
 * Measured on [1024x512]x[512x2048] (2.15 GFLOP), 1 and 2 threads in one process
 * (wasm-threads.test.ts), 2-core box: 16.9 vs 29.9 GFLOP/s (1.8x) at load ~3; results bit-identical.
 * With other jobs holding the second core it gains nothing (18.6 vs 18.1 at load ~5), so it stays
 * opt-in. A prototype of this shim on the idle box: 23.0 vs 28.5-35.4 GFLOP/s.
 */

const require = createRequire(import.meta.url);
// The CommonJS objects themselves (ESM namespaces are read-only): the wasm bundle reads `Worker` and
// `cpus` from these very objects, so patching them is what it sees.
const workerThreads = require('node:worker_threads') as { Worker: typeof Worker };
const osModule = require('node:os') as { cpus: typeof os.cpus };

/** An active patch; see {@link patchNodeForWasmThreads}. */
export interface WasmThreadsPatch {
  /** Rejects with the first error a pthread worker reports (the module then never becomes ready). */
  failure: Promise<never>;
  /** Every worker created through the patch. */
  workers: Worker[];
  /** Puts `worker_threads.Worker` and `os.cpus` back; later worker errors surface as in stock tfjs. */
  unpatch(): void;
  /** After a failed start-up: terminates every worker and keeps swallowing their errors. */
  abandon(): void;
}

/**
 * Patches Node for the threaded wasm build; call right before `tf.setBackend('wasm')` (with
 * `WASM_HAS_MULTITHREAD_SUPPORT` set and `setThreadsCount(threads)`), and `unpatch()` right after.
 *
 * @param workerScript the pthread script to run (tests pass a failing one).
 */
export function patchNodeForWasmThreads(
  threads: number,
  workerScript = writePthreadScript(),
): WasmThreadsPatch {
  const workers: Worker[] = [];
  let starting = true;
  let abandoned = false;
  let fail: (error: unknown) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => {}); // observed by the caller's race; never an unhandled rejection

  const OriginalWorker = workerThreads.Worker;
  class PthreadWorker extends OriginalWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(typeof url === 'string' && url.startsWith('blob:') ? workerScript : url, options);
      workers.push(this);
    }

    // Emscripten's 'error' listener rethrows, which would kill the process from inside an event
    // emitter; during start-up route the error to `failure` instead so start-up can fall back.
    // Afterwards errors behave as in stock tfjs (a hung pthread pool must not go unnoticed).
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'error' || !(starting || abandoned)) return super.emit(event, ...args);
      fail(args[0]);
      try {
        return super.emit(event, ...args);
      } catch {
        return true;
      }
    }
  }
  const originalCpus = osModule.cpus;
  const fakeCpus = (): os.CpuInfo[] => {
    const real = originalCpus();
    const first = real[0];
    if (!first) return real;
    const wanted = Math.max(real.length, 2 * threads);
    return Array.from({ length: wanted }, (_, i) => real[i] ?? first);
  };
  workerThreads.Worker = PthreadWorker;
  osModule.cpus = fakeCpus;
  return {
    failure,
    workers,
    unpatch: () => {
      starting = false;
      workerThreads.Worker = OriginalWorker;
      osModule.cpus = originalCpus;
    },
    abandon: () => {
      abandoned = true;
      for (const worker of workers) void worker.terminate();
    },
  };
}

/** The emscripten pthread bookkeeping the threaded module exposes (untyped in tfjs). */
interface PthreadRegistry {
  runningWorkers: Worker[];
  unusedWorkers: Worker[];
}

/** The pthread registry of a wasm backend instance, or undefined for the single-threaded build. */
export function pthreadsOf(backend: unknown): PthreadRegistry | undefined {
  const wasm = (backend as { wasm?: { PThread?: PthreadRegistry } } | null)?.wasm;
  return wasm?.PThread;
}

/**
 * Lets the process exit while XNNPACK's pool threads idle: emscripten `ref()`s a worker while its
 * pthread runs, and pool threads run forever, so without this Node never exits on its own.
 */
export function unrefWasmThreads(backend: unknown): void {
  for (const worker of pthreadsOf(backend)?.runningWorkers ?? []) worker.unref();
}
