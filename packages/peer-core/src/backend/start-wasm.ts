import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { PeerBackendError } from '../errors/peer-error.js';
import type { BackendInfo } from './backend-info.js';
import { keepProcessListeners } from './process-listeners.js';
import { registerWasmKernels } from './wasm-kernels/register-wasm-kernels.js';
import { patchNodeForWasmThreads, unrefWasmThreads } from './wasm-threads-node.js';

const THREADS_FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';
// A threaded start-up takes ~0.3 s (8 pthread workers load the module); beyond this it is stuck.
const THREADED_START_TIMEOUT_MS = 30_000;

/** Test seam: a pthread worker script to use instead of the generated one. */
export interface StartWasmOptions {
  workerScript?: string;
}

/**
 * Starts tfjs's wasm backend with our kernels: single-threaded SIMD, or for `threads >= 2` the
 * threaded build through the Node shim, falling back to one thread (with `fallbackReason`) if that
 * fails. A wasm backend already running with another thread count is restarted first.
 */
export async function startWasm(threads: number, options: StartWasmOptions = {}): Promise<BackendInfo> {
  registerWasmKernels();
  if (tf.findBackend('wasm') && getThreadsCount() !== threads) await stopWasm();
  if (threads < 2) return startBuild(1, options);
  try {
    return await startBuild(threads, options);
  } catch (error) {
    const info = await startBuild(1, options);
    const why = error instanceof Error ? error.message : String(error);
    return { ...info, fallbackReason: `wasm threads failed (${why}); running 1 thread` };
  }
}

async function startBuild(threads: number, options: StartWasmOptions): Promise<BackendInfo> {
  const threaded = threads >= 2;
  tf.env().set(THREADS_FLAG, threaded);
  setThreadsCount(threads);
  const patch = threaded ? patchNodeForWasmThreads(threads, options.workerScript) : undefined;
  let timer: NodeJS.Timeout | undefined;
  let started: boolean;
  try {
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no start within ${THREADED_START_TIMEOUT_MS} ms`)),
        THREADED_START_TIMEOUT_MS,
      );
    });
    const setting = tf.setBackend('wasm');
    started = await keepProcessListeners(() =>
      patch ? Promise.race([setting, patch.failure, stuck]) : setting,
    );
  } catch (error) {
    // Kill the half-started module: its workers, and tfjs's pending init (removeBackend obsoletes it).
    patch?.abandon();
    await discardWasmBackend();
    throw error;
  } finally {
    clearTimeout(timer);
    patch?.unpatch();
    // Back to Node's value: a later re-init (tfjs picks a backend by itself after removeBackend) must
    // not find the flag on without the patch in place, or it dies on emscripten's blob: worker URL.
    tf.env().set(THREADS_FLAG, false);
  }
  if (!started) throw new PeerBackendError("tf.setBackend('wasm') failed (tfjs printed the cause above)");
  if (threaded) unrefWasmThreads(tf.backend());

  const actual = getThreadsCount();
  const info: BackendInfo = {
    name: 'wasm',
    simd: (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true,
    threads: actual,
  };
  if (actual !== threads) info.fallbackReason = `asked for ${threads} wasm threads, got ${actual}`;
  return info;
}

/**
 * Disposes the wasm backend (terminating its pthread workers) and registers its factory again, so a
 * later {@link startWasm} creates a fresh module. Tensors still on the old backend become unusable.
 */
export async function stopWasm(): Promise<void> {
  if (tf.findBackend('wasm')) await discardWasmBackend();
}

async function discardWasmBackend(): Promise<void> {
  const entry = tf.engine().registryFactory.wasm;
  if (!entry) return;
  await keepProcessListeners(async () => tf.removeBackend('wasm'));
  tf.registerBackend('wasm', entry.factory, entry.priority);
}
