import type { DataType, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { PeerBackendError } from '../../errors/peer-error.js';

/** A typed array over wasm memory; `bool` tensors are bytes. */
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/**
 * The kernel-registry hands kernels an untyped backend; this narrows it and fails loudly if a kernel
 * registered for 'wasm' is somehow called with another backend.
 */
export function asWasmBackend(backend: unknown, kernelName: string): BackendWasm {
  const candidate = backend as Partial<BackendWasm> | null;
  if (typeof candidate?.typedArrayFromHeap !== 'function' || typeof candidate.makeOutput !== 'function') {
    throw new PeerBackendError(`kernel ${kernelName} needs the wasm backend (typedArrayFromHeap/makeOutput)`);
  }
  return candidate as BackendWasm;
}

/**
 * A view of `info`'s data on the wasm heap (no copy). Any allocation (`makeOutput`, another kernel) may
 * grow the heap and detach the buffer, so take views only after the last allocation of a kernel.
 */
export function heapView(backend: BackendWasm, info: TensorInfo): HeapArray {
  return backend.typedArrayFromHeap(info) as HeapArray;
}

/** Allocates the output tensor on the wasm heap (contents are undefined: whatever malloc returned). */
export function allocOutput(backend: BackendWasm, shape: number[], dtype: DataType): TensorInfo {
  return backend.makeOutput(shape, dtype);
}
