import { readCoreEnv } from '../env.js';
import { PeerConfigError } from '../errors/peer-error.js';
import { KernelHeap } from './kernel-heap.js';
import { loadNativeAddon, type NativeAddon, nativeUnavailableReason } from './native-addon.js';
import { createNativeKernels } from './native-kernels.js';
import type { PeerKernels } from './peer-kernels.js';
import { createReferenceKernels } from './reference-kernels.js';
import { createSimdKernels } from './simd-kernels.js';

let kernels: PeerKernels | undefined;
let heap: KernelHeap | undefined;

/**
 * The process-wide PEER kernels, chosen once from `PEER_KERNELS` (default auto): the native addon where it
 * was built and the CPU has AVX2/FMA, else WebAssembly SIMD where the runtime has it (Node >= 16 does), else
 * the plain-JS reference. `PEER_KERNEL_THREADS=2` runs large calls on two threads.
 */
export function defaultKernels(): PeerKernels {
  if (!kernels) {
    const env = readCoreEnv();
    kernels = createKernels(env.PEER_KERNELS, env.PEER_KERNEL_THREADS === 2 ? 2 : 1);
  }
  return kernels;
}

function createKernels(choice: 'native' | 'simd' | 'reference' | undefined, threads: 1 | 2): PeerKernels {
  if (choice === 'reference' || (choice === undefined && !wasmSimdSupported()))
    return createReferenceKernels();
  if (choice === 'native' && !loadNativeAddon()) {
    const bound = `'simd' or 'reference' on this machine (the native addon is ${nativeUnavailableReason()})`;
    throw new PeerConfigError('PEER_KERNELS', bound, choice);
  }
  const simd = createSimdKernels(undefined, { threads });
  const addon = choice === 'simd' ? undefined : loadNativeAddon();
  return addon ? createNativeKernels(addon, simd, threads) : simd;
}

/** The native addon when the default kernels are the native ones (dense products then use it too). */
export function defaultNativeAddon(): NativeAddon | undefined {
  const k = defaultKernels();
  return k.name === 'native' ? (k as PeerKernels & { addon: NativeAddon }).addon : undefined;
}

/** The default kernels for the backend banner: which ones, and why native is not among them. */
export function defaultKernelsLabel(): string {
  const k = defaultKernels();
  const n = defaultKernelThreads();
  const threads = `${n} thread${n === 1 ? '' : 's'}`;
  if (k.name === 'native') return `native AVX2/FMA, ${threads}`;
  const why = readCoreEnv().PEER_KERNELS ? 'PEER_KERNELS' : nativeUnavailableReason();
  return `${k.name === 'simd' ? 'wasm SIMD' : 'plain JS'}, ${threads}; not native: ${why}`;
}

/** Threads of the default kernels (1 unless `PEER_KERNEL_THREADS=2`). */
export function defaultKernelThreads(): 1 | 2 {
  return (defaultKernels() as PeerKernels & { threads?: 1 | 2 }).threads ?? 1;
}

/** The process-wide kernel heap that expert tables and scratch live in (shared with the SIMD kernels). */
export function defaultKernelHeap(): KernelHeap {
  if (!heap) {
    const k = defaultKernels() as PeerKernels & { heap?: KernelHeap };
    heap = k.heap ?? new KernelHeap();
  }
  return heap;
}

function wasmSimdSupported(): boolean {
  // The smallest module using a v128 value: validates only where SIMD is supported.
  const probe = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98,
    11,
  ]);
  return WebAssembly.validate(probe);
}
