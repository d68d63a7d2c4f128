/** Tensor backends @peer/core can run on; 'tensorflow' is tfjs-node(-gpu)'s native backend. */
export type BackendName = 'wasm' | 'cpu' | 'tensorflow';

/** What {@link initBackend} chose, for logs, benchmarks and capability checks. */
export interface BackendInfo {
  name: BackendName;
  /** Kernels use SIMD: the wasm build per feature detection, always for native TensorFlow, never on cpu. */
  simd: boolean;
  /** Threads the backend computes with (wasm: XNNPACK's pool incl. the main thread). */
  threads: number;
  /** Why a preferred backend was skipped (a broken tfjs-node install, wasm failing to start, ...). */
  fallbackReason?: string;
}

/** Loads a module by specifier; injectable so tests can simulate tfjs-node present, absent or broken. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

/** Options of {@link initBackend}; each falls back to its environment variable, then a default. */
export interface InitBackendOptions {
  /** Backend to use; otherwise `PEER_BACKEND`; otherwise auto: tfjs-node-gpu, tfjs-node, wasm, cpu. */
  backend?: BackendName;
  /** Wasm threads; otherwise `PEER_WASM_THREADS`; otherwise 1. Values >= 2 enable the Node shim. */
  wasmThreads?: number;
  /** Receives the one-line banner; default writes it to stderr unless `PEER_LOG` is silent/error/warn. */
  log?: (msg: string) => void;
  /** Module loader for the optional tfjs-node packages (tests inject failing ones). */
  importModule?: ModuleImporter;
  /** Environment to read instead of `process.env` (tests). */
  env?: Record<string, string | undefined>;
}
