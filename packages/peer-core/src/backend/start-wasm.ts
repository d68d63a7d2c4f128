import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { PeerBackendError } from '../errors/peer-error.js';
import type { BackendInfo } from './backend-info.js';
import { keepProcessListeners } from './process-listeners.js';
import { registerWasmKernels } from './wasm-kernels/register-wasm-kernels.js';
import { patchNodeForWasmThreads, unrefWasmThreads } from './wasm-threads-node.js';

const THREADS_FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';

/**
 * Starts tfjs's wasm backend with our kernels, single-threaded SIMD or (threads >= 2) the threaded
 * build through the Node shim. A wasm backend already running is restarted when its thread count
 * differs, because the count is fixed when the module is created.
 */
export async function startWasm(threads: number): Promise<BackendInfo> {
  registerWasmKernels();
  const running = tf.findBackend('wasm');
  if (running && getThreadsCount() !== threads) await stopWasm();

  const threaded = threads >= 2;
  tf.env().set(THREADS_FLAG, threaded);
  setThreadsCount(threads);
  const unpatch = threaded ? patchNodeForWasmThreads(threads) : undefined;
  let started: boolean;
  try {
    started = await keepProcessListeners(() => tf.setBackend('wasm'));
  } finally {
    unpatch?.();
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
  const entry = tf.engine().registryFactory.wasm;
  if (!entry || !tf.findBackend('wasm')) return;
  await keepProcessListeners(async () => tf.removeBackend('wasm'));
  tf.registerBackend('wasm', entry.factory, entry.priority);
}
