import { readCoreEnv } from '../env.js';
import { KernelHeap } from './kernel-heap.js';
import type { PeerKernels } from './peer-kernels.js';
import { createReferenceKernels } from './reference-kernels.js';
import { createSimdKernels } from './simd-kernels.js';

let kernels: PeerKernels | undefined;
let heap: KernelHeap | undefined;

/**
 * WebAssembly SIMD kernels when the runtime has SIMD (Node >= 16 does), else the plain-JS reference;
 * `PEER_KERNEL_THREADS=2` runs them on two threads.
 */
export function defaultKernels(): PeerKernels {
  if (!kernels) {
    const threads = readCoreEnv().PEER_KERNEL_THREADS === 2 ? 2 : 1;
    kernels = wasmSimdSupported() ? createSimdKernels(undefined, { threads }) : createReferenceKernels();
  }
  return kernels;
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
