import { z } from 'zod';
import { PeerConfigError } from './errors/peer-error.js';

// An empty variable (`PEER_BACKEND= npm test`) means "not set", as shells and CI templates produce them.
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

/**
 * The environment variables @peer/core reads. This file is the only place that touches `process.env`;
 * everything else receives these values as options.
 */
export const coreEnvSchema = z.object({
  /** Forces the tensor backend; unset means auto (tfjs-node if installed, else wasm, else cpu). */
  PEER_BACKEND: z.preprocess(unsetIfEmpty, z.enum(['wasm', 'cpu', 'tensorflow']).optional()),
  /** Threads of the wasm backend; >= 2 turns on the Node pthread shim (`backend/wasm-threads-node.ts`). */
  PEER_WASM_THREADS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).optional()),
  /** Threads of the PEER SIMD kernels (top-k, experts): 2 splits tokens across a worker sharing the heap. */
  PEER_KERNEL_THREADS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(2).optional()),
  /**
   * Which PEER kernels run retrieval and experts; unset means auto (native if its addon was built and the CPU
   * has AVX2/FMA, else WebAssembly SIMD, else the plain-JS reference). `native` fails if the addon is missing.
   */
  PEER_KERNELS: z.preprocess(unsetIfEmpty, z.enum(['native', 'simd', 'reference']).optional()),
  /** How chatty the library is; `silent` also hides the one-line backend banner. */
  PEER_LOG: z.preprocess(unsetIfEmpty, z.enum(['silent', 'error', 'warn', 'info', 'debug']).optional()),
});

/** Validated view of the environment variables @peer/core understands. */
export type CoreEnv = z.output<typeof coreEnvSchema>;

const bounds: Record<keyof CoreEnv, string> = {
  PEER_BACKEND: "one of 'wasm', 'cpu', 'tensorflow'",
  PEER_WASM_THREADS: 'an integer >= 1',
  PEER_KERNEL_THREADS: '1 or 2',
  PEER_KERNELS: "one of 'native', 'simd', 'reference'",
  PEER_LOG: "one of 'silent', 'error', 'warn', 'info', 'debug'",
};

/**
 * Reads and validates the @peer/core environment variables; throws {@link PeerConfigError} naming the
 * variable, its allowed values and what was found.
 *
 * @param source the variables to read; tests pass their own object instead of mutating `process.env`.
 */
export function readCoreEnv(source: Record<string, string | undefined> = process.env): CoreEnv {
  const picked = {
    PEER_BACKEND: source.PEER_BACKEND,
    PEER_WASM_THREADS: source.PEER_WASM_THREADS,
    PEER_KERNEL_THREADS: source.PEER_KERNEL_THREADS,
    PEER_KERNELS: source.PEER_KERNELS,
    PEER_LOG: source.PEER_LOG,
  };
  const parsed = coreEnvSchema.safeParse(picked);
  if (parsed.success) return parsed.data;
  const key = (parsed.error.issues[0]?.path[0] ?? 'PEER_BACKEND') as keyof CoreEnv;
  throw new PeerConfigError(key, bounds[key], picked[key], { cause: parsed.error });
}
