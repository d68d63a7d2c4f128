import {
  loadNativeAddon,
  type NativeAddon,
  nativeUnavailableReason,
} from '../../src/kernels/native-addon.js';
import { createNativeKernels, type NativeKernels } from '../../src/kernels/native-kernels.js';
import { createSimdKernels } from '../../src/kernels/simd-kernels.js';

/**
 * The native addon, or a failing test: on the machines this project runs on (x86-64 with AVX2/FMA and a C++
 * compiler) `npm ci` builds it, so its absence is a broken install, not a reason to skip.
 */
export function requireNativeAddon(): NativeAddon {
  const addon = loadNativeAddon();
  if (!addon) throw new Error(`native kernels unavailable: ${nativeUnavailableReason()}`);
  return addon;
}

/** Native kernels over a fresh SIMD heap, with `threads` native threads. */
export function requireNativeKernels(threads: 1 | 2 = 1): NativeKernels {
  return createNativeKernels(requireNativeAddon(), createSimdKernels(), threads);
}

/** Every (transposeA, transposeB) combination of a product. */
export const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;
