import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { PeerBackendError } from '../../errors/peer-error.js';
import { castImpl } from './cast-impl.js';
import { allocOutput, asWasmBackend, heapView } from './wasm-heap.js';

const SUPPORTED = new Set(['float32', 'int32', 'bool']);

/**
 * Cast for the wasm backend, replacing the stock kernel, which converts with `Uint8Array.set` and so
 * turns -1 into bool 255 and 0.1 or 256 into false. Any non-zero value (NaN included) becomes true.
 */
export const cast: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend, 'Cast');
  const x = inputs.x as TensorInfo;
  const dtype = attrs?.dtype as TensorInfo['dtype'];
  if (!SUPPORTED.has(x.dtype) || !SUPPORTED.has(dtype)) {
    throw new PeerBackendError(`Cast from ${x.dtype} to ${dtype} is not supported on wasm`);
  }
  const out = allocOutput(wasm, x.shape, dtype);
  // Views only now: makeOutput may have grown (and detached) the heap.
  castImpl(heapView(wasm, x), heapView(wasm, out), dtype === 'bool' && x.dtype !== 'bool');
  return out;
};

/** Registers {@link cast} as the wasm Cast (replacing the stock one). */
export const castConfig: KernelConfig = {
  kernelName: 'Cast',
  backendName: 'wasm',
  kernelFunc: cast,
};
