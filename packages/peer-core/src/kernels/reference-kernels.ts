import type { PeerKernels } from './peer-kernels.js';
import {
  referenceExpertsBackward,
  referenceExpertsForward,
  referenceScatterRank1,
} from './reference-experts.js';
import { referenceProductTopk, referenceTopkRows } from './reference-topk.js';

/**
 * The plain-JS kernels: obviously correct, float32 results, same tie-breaks and argument checks as the SIMD
 * kernels. Works on any typed arrays (no heap needed); slow on PEER's hot loops.
 *
 * @example
 * const kernels = createReferenceKernels();
 * kernels.topkRows(scores, rows, cols, 16, outIndex, outScore);
 */
export function createReferenceKernels(): PeerKernels {
  return {
    name: 'reference',
    topkRows: referenceTopkRows,
    productTopk: referenceProductTopk,
    expertsForward: referenceExpertsForward,
    expertsBackward: referenceExpertsBackward,
    scatterRank1: referenceScatterRank1,
  };
}
