import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { PeerConfigError } from '../../errors/peer-error.js';
import { unsortedSegmentSumImpl } from './unsorted-segment-sum-impl.js';
import { allocOutput, asWasmBackend, heapView } from './wasm-heap.js';

/**
 * UnsortedSegmentSum for the wasm backend, which ships none; it is the gradient of `tf.gather`, so
 * without it no embedding or expert table can be trained on wasm.
 *
 * `segmentIds` may have any rank whose shape is a prefix of `x.shape` (the kernel contract; the public
 * op passes 1-D ids). Output: `[numSegments, ...x.shape.slice(segmentIds.rank)]`, dtype of `x`.
 */
export const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = asWasmBackend(backend, 'UnsortedSegmentSum');
  const x = inputs.x as TensorInfo;
  const segmentIds = inputs.segmentIds as TensorInfo;
  const numSegments = attrs?.numSegments as number;
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new PeerConfigError('numSegments', 'an integer >= 0', numSegments);
  }
  const idRank = segmentIds.shape.length;
  for (let d = 0; d < idRank; d++) {
    if (segmentIds.shape[d] !== x.shape[d]) {
      throw new PeerConfigError(
        `segmentIds.shape[${d}]`,
        `equal to x.shape[${d}] (${x.shape[d]})`,
        segmentIds.shape[d],
      );
    }
  }
  const innerShape = x.shape.slice(idRank);
  const inner = innerShape.reduce((a, b) => a * b, 1);
  const out = allocOutput(wasm, [numSegments, ...innerShape], x.dtype);
  // Views only now: makeOutput may have grown (and detached) the heap.
  unsortedSegmentSumImpl(
    heapView(wasm, x),
    heapView(wasm, segmentIds) as Int32Array,
    inner,
    numSegments,
    heapView(wasm, out),
  );
  return out;
};

/** Registers {@link unsortedSegmentSum} as the wasm UnsortedSegmentSum. */
export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};
