import { backend_util, type KernelConfig, type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs';
import { PeerConfigError } from '../../errors/peer-error.js';
import { firstInvalidIndex, gatherV2Impl } from './gather-v2-impl.js';
import { allocOutput, asWasmBackend, heapView } from './wasm-heap.js';

/**
 * GatherV2 for the wasm backend, replacing the stock kernel. The stock one returns wrong values for
 * every `batchDims >= 1` with more than one batch (and reads out of bounds on larger shapes: "memory
 * access out of bounds" for scores [256x128] with 16 indices per row), and copies element by element.
 * Ours works for every axis and batchDims and copies rows by memmove: [4096x256] table, 8192 indices:
 * 9-11 ms against 114-131 ms stock and 148-219 ms on cpu (test/backend/wasm-bench.test.ts).
 * Out-of-range indices throw, as on tfjs's cpu and stock wasm kernels.
 */
export const gatherV2: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend, 'GatherV2');
  const x = inputs.x as TensorInfo;
  const indices = inputs.indices as TensorInfo;
  const axis = util.parseAxisParam(attrs?.axis as number, x.shape)[0] as number;
  const batchDims = (attrs?.batchDims as number | undefined) ?? 0;
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x, indices, axis, batchDims);
  const count = util.sizeFromShape(indices.shape) / info.batchSize;
  const layout = {
    batch: info.batchSize,
    outer: info.outerSize,
    dim: info.dimSize,
    slice: info.sliceSize,
    count,
  };

  const bad = firstInvalidIndex(heapView(wasm, indices) as Int32Array, info.dimSize);
  if (bad >= 0) {
    const value = (heapView(wasm, indices) as Int32Array)[bad];
    throw new PeerConfigError(
      `gather indices[${bad}]`,
      `in [0, ${info.dimSize - 1}] (x.shape[${axis}])`,
      value,
    );
  }
  const out = allocOutput(wasm, info.outputShape, x.dtype);
  // Views only now: makeOutput may have grown (and detached) the heap.
  gatherV2Impl(heapView(wasm, x), heapView(wasm, indices) as Int32Array, layout, heapView(wasm, out));
  return out;
};

/** Registers {@link gatherV2} as the wasm GatherV2 (replacing the stock one). */
export const gatherV2Config: KernelConfig = {
  kernelName: 'GatherV2',
  backendName: 'wasm',
  kernelFunc: gatherV2,
};
