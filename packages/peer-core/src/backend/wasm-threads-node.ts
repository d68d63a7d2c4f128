import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { PeerBackendError } from '../errors/peer-error.js';

/**
 * Makes tfjs-backend-wasm 4.22's threaded-SIMD build run under Node. Opt-in (`wasmThreads >= 2`),
 * because it reaches into the backend's internals; test/backend/wasm-threads.test.ts pins its behaviour.
 *
 * Under Node the backend hard-codes `WASM_HAS_MULTITHREAD_SUPPORT = false` (tfjs issue #3830). Forcing
 * the flag fails because emscripten starts each pthread worker from a `blob:` URL, which Node's
 * `Worker` refuses, and sends the worker its main script as a Blob, which it cannot `importScripts`.
 * While the backend initialises we therefore:
 * 1. write the bundle's pthread worker source (`wasmWorkerContents`) to a `.cjs` file, wrapped so the
 *    worker awaits the Blob's text before handling messages and evaluates it in place of importScripts;
 * 2. swap `worker_threads.Worker` for a subclass that loads that file when given a `blob:` URL (a URL
 *    Node would reject anyway, so nothing else changes);
 * 3. report at least 2x the threads as CPUs: the C++ side caps threads at half the logical cores,
 *    which is 1 on a 2-core box.
 * Everything is restored when the backend is up; emscripten has by then cached the patched Worker
 * for the few pthreads it may still spawn.
 *
 * Measured ([1024x512]x[512x2048] matMul, 2.15 GFLOP, 2-core box, one run of wasm-threads.test.ts):
 * 1 thread (stock SIMD) 23.2 GFLOP/s, 2 threads (this shim) 35.0 GFLOP/s.
 */

const require = createRequire(import.meta.url);
// The CommonJS objects themselves (ESM namespaces are read-only): the wasm bundle reads `Worker` and
// `cpus` from these very objects, so patching them is what it sees.
const workerThreads = require('node:worker_threads') as { Worker: typeof Worker };
const osModule = require('node:os') as { cpus: typeof os.cpus };

// The free variables of the threaded factory that the bundle defines at module scope; the worker
// evaluates the factory's source on its own, so it has to define them (tslib helpers included, used
// only on the main thread but defined for safety).
const WORKER_PRELUDE = (wasmDir: string): string => `'use strict';
globalThis.require$$0 = require('fs');
globalThis.require$$1 = require('path');
globalThis.require$$3 = require('perf_hooks');
globalThis.require$$4 = require('os');
globalThis.commonjsGlobal = globalThis;
globalThis.__dirname = ${JSON.stringify(wasmDir)};
globalThis.__values = (o) => o[Symbol.iterator]();
globalThis.__read = (o, n) => (n === undefined ? [...o] : [...o].slice(0, n));
globalThis.__spreadArray = (to, from) => to.concat(Array.from(from));
{
  const port = require('worker_threads').parentPort;
  const on = port.on.bind(port);
  port.on = (event, handler) => {
    if (event !== 'message') return on(event, handler);
    let loading = null;
    const queued = [];
    return on('message', (data) => {
      if (loading) return void queued.push(data);
      const blob = data && data.cmd === 'load' ? data.urlOrBlob : undefined;
      if (!blob || typeof blob !== 'object') return handler(data);
      loading = blob.text().then((source) => {
        globalThis.__peerPthreadMain = source;
        handler({ ...data, urlOrBlob: '__peer_pthread_main__' });
        loading = null;
        for (const d of queued.splice(0)) handler(d);
      });
    });
  };
}
`;

const WORKER_POSTLUDE = `
{
  const importScripts = globalThis.importScripts;
  globalThis.importScripts = (file) => {
    if (file !== '__peer_pthread_main__') return importScripts(file);
    const source = globalThis.__peerPthreadMain;
    delete globalThis.__peerPthreadMain;
    (0, eval)(source);
  };
}
`;

/** Writes (once per content) the pthread worker script and returns its path. */
function writeWorkerScript(): string {
  const bundlePath = require.resolve('@tensorflow/tfjs-backend-wasm');
  const match = /var wasmWorkerContents = ("(?:[^"\\]|\\.)*");/.exec(readFileSync(bundlePath, 'utf8'));
  if (!match?.[1]) {
    throw new PeerBackendError(`wasm threads: no wasmWorkerContents in ${bundlePath} (tfjs version changed?)`);
  }
  // tfjs escapes newlines the same way before making its Blob: the source has "\n" inside string literals.
  const workerSource = (JSON.parse(match[1]) as string).replace(/\n/g, '\\n');
  const source = WORKER_PRELUDE(path.dirname(bundlePath)) + workerSource + WORKER_POSTLUDE;
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `peer-tfjs-wasm-pthread-${hash}.cjs`);
  if (!existsSync(file)) {
    // Write then rename, so concurrent processes never load a half-written file.
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, source);
    renameSync(partial, file);
  }
  return file;
}

/**
 * Patches Node for the threaded wasm build; call right before `tf.setBackend('wasm')` (with
 * `WASM_HAS_MULTITHREAD_SUPPORT` set and `setThreadsCount(threads)`) and call the returned function
 * right after it.
 */
export function patchNodeForWasmThreads(threads: number): () => void {
  const workerFile = writeWorkerScript();
  const OriginalWorker = workerThreads.Worker;
  class PthreadWorker extends OriginalWorker {
    constructor(url: string | URL, options?: WorkerOptions) {
      super(typeof url === 'string' && url.startsWith('blob:') ? workerFile : url, options);
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
  return () => {
    workerThreads.Worker = OriginalWorker;
    osModule.cpus = originalCpus;
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
