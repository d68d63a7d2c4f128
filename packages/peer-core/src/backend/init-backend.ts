import * as tf from '@tensorflow/tfjs';
import { type CoreEnv, readCoreEnv } from '../env.js';
import { PeerBackendError, PeerConfigError } from '../errors/peer-error.js';
import { defaultKernelsLabel } from '../kernels/default-kernels.js';
import type { BackendInfo, BackendName, InitBackendOptions, ModuleImporter } from './backend-info.js';
import { startNative } from './start-native.js';
import { startWasm, stopWasm } from './start-wasm.js';

const defaultImporter: ModuleImporter = (specifier) => import(specifier);

// One backend per process: tfjs's engine is a process-wide singleton.
interface Started {
  promise: Promise<BackendInfo>;
  /** The wasm thread count the first call resolved (option, env or default). */
  wasmThreads: number;
}
let current: Started | undefined;

/**
 * Chooses and starts the tensor backend once per process: explicit `options.backend`, else
 * `PEER_BACKEND`, else auto (tfjs-node-gpu, tfjs-node, wasm, cpu). Later calls return the same info;
 * one that explicitly asks for another backend or wasm thread count throws (call
 * {@link shutdownBackend} first). Logs one line, e.g. `[peer] tensor backend: wasm (simd, 1 thread)`.
 *
 * @example
 * const info = await initBackend(); // then use `import * as tf from '@tensorflow/tfjs'` as usual
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (current) return sameAsBefore(current, options);
  const env = readCoreEnv(options.env);
  const threads = options.wasmThreads ?? env.PEER_WASM_THREADS ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new PeerConfigError('wasmThreads', 'an integer >= 1', threads);
  }
  const entry: Started = { promise: choose(options, env, threads), wasmThreads: threads };
  current = entry;
  try {
    return await entry.promise;
  } catch (error) {
    if (current === entry) current = undefined;
    throw error;
  }
}

async function sameAsBefore(started: Started, options: InitBackendOptions): Promise<BackendInfo> {
  const info = await started.promise;
  const again = 'call shutdownBackend() first';
  if (options.backend !== undefined && options.backend !== info.name) {
    throw new PeerBackendError(
      `backend already initialised as '${info.name}', not '${options.backend}'; ${again}`,
    );
  }
  if (
    info.name === 'wasm' &&
    options.wasmThreads !== undefined &&
    options.wasmThreads !== started.wasmThreads
  ) {
    throw new PeerBackendError(
      `wasm already initialised for ${started.wasmThreads} thread(s), not ${options.wasmThreads}; ${again}`,
    );
  }
  return info;
}

/**
 * Releases the backend: terminates wasm pthread workers (which otherwise keep the process alive
 * unless unref'd) and frees the wasm heap. Afterwards {@link initBackend} chooses again. Call it at
 * the end of a process or test file; tensors created before become unusable.
 */
export async function shutdownBackend(): Promise<void> {
  const previous = current;
  current = undefined;
  if (!previous) return;
  const info = await previous.promise.catch(() => undefined);
  if (info?.name === 'wasm') await stopWasm();
}

async function choose(options: InitBackendOptions, env: CoreEnv, threads: number): Promise<BackendInfo> {
  const info = await start(
    options.backend ?? env.PEER_BACKEND,
    threads,
    options.importModule ?? defaultImporter,
  );
  const silent = env.PEER_LOG === 'silent' || env.PEER_LOG === 'error' || env.PEER_LOG === 'warn';
  const log = options.log ?? (silent ? () => {} : (msg: string) => process.stderr.write(`${msg}\n`));
  log(banner(info));
  return info;
}

async function start(requested: BackendName | undefined, threads: number, importer: ModuleImporter) {
  if (requested === 'cpu') return startCpu();
  if (requested === 'wasm') return startWasm(threads);
  const native = await startNative(importer);
  if (native.info) return withReason(native.info, native.failures);
  if (requested === 'tensorflow') {
    const why =
      native.failures.join('; ') ||
      'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed';
    throw new PeerBackendError(`backend 'tensorflow' was requested but is unavailable: ${why}`);
  }
  try {
    return withReason(await startWasm(threads), native.failures);
  } catch (error) {
    const reason = `wasm failed: ${error instanceof Error ? error.message : String(error)}`;
    return withReason(await startCpu(), [...native.failures, reason]);
  }
}

async function startCpu(): Promise<BackendInfo> {
  if (!(await tf.setBackend('cpu'))) throw new PeerBackendError("tf.setBackend('cpu') failed");
  return { name: 'cpu', simd: false, threads: 1 };
}

function withReason(info: BackendInfo, reasons: string[]): BackendInfo {
  const all = [...reasons, ...(info.fallbackReason ? [info.fallbackReason] : [])];
  return all.length > 0 ? { ...info, fallbackReason: all.join('; ') } : info;
}

function banner(info: BackendInfo): string {
  const kind = info.name === 'tensorflow' ? 'native' : info.simd ? 'simd' : 'no simd';
  const threads = `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  const fallback = info.fallbackReason ? `; fallback: ${info.fallbackReason}` : '';
  return `[peer] tensor backend: ${info.name} (${kind}, ${threads}${fallback}); kernels: ${defaultKernelsLabel()}`;
}
