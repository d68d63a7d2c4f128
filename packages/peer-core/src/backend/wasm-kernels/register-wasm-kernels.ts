// Loaded for its side effect: the package registers the 'wasm' backend and its stock kernels. It must
// come first, or its registrations would overwrite ours (tfjs's registerKernel replaces with a warning).
import '@tensorflow/tfjs-backend-wasm';
import {
  findBackend,
  getKernel,
  type KernelConfig,
  registerKernel,
  unregisterKernel,
} from '@tensorflow/tfjs';
import { castConfig } from './cast.js';
import { gatherV2Config } from './gather-v2.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';

/**
 * Our JS kernels for the wasm backend: what a PEER forward + backward + Adam step needs and the stock
 * build lacks (UnsortedSegmentSum) or gets wrong (GatherV2 for batchDims >= 1, Cast to bool). The list
 * comes from test/backend/kernel-audit.test.ts; kernel-parity.test.ts checks the stock ones we keep.
 */
export const wasmKernelConfigs: readonly KernelConfig[] = [
  unsortedSegmentSumConfig,
  gatherV2Config,
  castConfig,
];

// Stock kernels we displaced, so benchmarks and tests can put them back.
const displaced = new Map<string, KernelConfig>();

/**
 * Registers {@link wasmKernelConfigs} for 'wasm', replacing stock kernels of the same name. Idempotent,
 * and callable before or after the backend is initialised (kernels are looked up per call).
 *
 * @returns the names of the kernels it (re)registered on this call; empty when all were already ours.
 */
export function registerWasmKernels(): string[] {
  const changed: string[] = [];
  for (const config of wasmKernelConfigs) {
    const current = getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current) {
      displaced.set(config.kernelName, current);
      unregisterKernel(config.kernelName, 'wasm');
    }
    registerKernel(config);
    changed.push(config.kernelName);
  }
  return changed;
}

/**
 * Undoes {@link registerWasmKernels}: stock kernels come back and the ones wasm lacks are removed.
 * For comparisons against the stock backend only; training needs our kernels.
 */
export function unregisterWasmKernels(): void {
  for (const config of wasmKernelConfigs) {
    const current = getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc !== config.kernelFunc) continue;
    unregisterKernel(config.kernelName, 'wasm');
    const stock = displaced.get(config.kernelName);
    if (!stock) continue;
    registerKernel(stock);
    // A stock kernel's setupFunc (its cwrap into the wasm module) ran only if it was registered when the
    // backend started; run it again so a restore after our registration still works.
    const backend = findBackend('wasm');
    if (backend && stock.setupFunc) stock.setupFunc(backend);
  }
}
