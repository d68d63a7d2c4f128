/**
 * The tensor backend of @peer/core: choosing and starting it, the wasm kernels PEER training needs,
 * and a matMul that stays on wasm's fast path. Compute with `import * as tf from '@tensorflow/tfjs'`
 * after `await initBackend()`; the same namespace drives wasm, cpu and tfjs-node's 'tensorflow'.
 */
export * as tf from '@tensorflow/tfjs';
export type { BackendInfo, BackendName, InitBackendOptions, ModuleImporter } from './backend-info.js';
export { fastMatMul } from './fast-matmul.js';
export { initBackend, shutdownBackend } from './init-backend.js';
export {
  registerWasmKernels,
  unregisterWasmKernels,
  wasmKernelConfigs,
} from './wasm-kernels/register-wasm-kernels.js';
