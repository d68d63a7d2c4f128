import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  initBackend,
  tf as peerTf,
  registerWasmKernels,
  shutdownBackend,
  unregisterWasmKernels,
  wasmKernelConfigs,
} from '../../src/backend/index.js';
import { gatherV2Impl } from '../../src/backend/wasm-kernels/gather-v2-impl.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(shutdownBackend);

describe('registerWasmKernels', () => {
  it('has registered ours on wasm (initBackend does it) and is idempotent', () => {
    for (const config of wasmKernelConfigs) {
      expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
    }
    expect(registerWasmKernels()).toEqual([]);
  });

  it('unregisterWasmKernels restores the stock kernels (and removes UnsortedSegmentSum)', async () => {
    unregisterWasmKernels();
    try {
      expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeUndefined();
      expect(tf.getKernel('GatherV2', 'wasm')).toBeDefined();
      // The stock Cast is back, with its bug: -1 becomes byte 255.
      const stock = tf.cast(tf.tensor1d([-1, 0]), 'bool');
      expect(Array.from(await stock.data())).toEqual([255, 0]);
      const gathered = tf.gather(tf.tensor1d([10, 20, 30]), tf.tensor1d([2, 0], 'int32'));
      expect(Array.from(await gathered.data())).toEqual([30, 10]);
      // The stock GatherV2 is wrong with batchDims 1 (tfjs-backend-wasm 4.22): this documents why we
      // replace it, and fails once an upgrade fixes it.
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 5]);
      const batched = tf.gather(x, tf.tensor2d([4, 0, 2, 1, 1, 3], [2, 3], 'int32'), 1, 1);
      expect(Array.from(await batched.data())).not.toEqual([5, 1, 3, 7, 7, 9]);
      tf.dispose([stock, gathered, x, batched]);
    } finally {
      expect(registerWasmKernels().sort()).toEqual(['Cast', 'GatherV2', 'UnsortedSegmentSum']);
    }
    const fixed = tf.cast(tf.tensor1d([-1, 0]), 'bool');
    expect(Array.from(await fixed.data())).toEqual([1, 0]);
    fixed.dispose();
  });

  it('exports the one tf namespace the project computes with', () => {
    expect(peerTf.engine()).toBe(tf.engine());
    expect(peerTf.getBackend()).toBe('wasm');
  });
});

describe('gatherV2Impl', () => {
  it('copies long rows between arrays on different buffers too (set fallback)', () => {
    const x = Float32Array.from({ length: 3 * 20 }, (_, i) => i);
    const out = new Float32Array(2 * 20);
    gatherV2Impl(x, Int32Array.from([2, 0]), { batch: 1, outer: 1, dim: 3, slice: 20, count: 2 }, out);
    expect(Array.from(out.subarray(0, 20))).toEqual(Array.from(x.subarray(40, 60)));
    expect(Array.from(out.subarray(20))).toEqual(Array.from(x.subarray(0, 20)));
  });

  it('copies long rows within one buffer by memmove (the wasm-heap case)', () => {
    const heap = new Float32Array(100);
    heap.set(Float32Array.from({ length: 60 }, (_, i) => i + 1));
    const x = heap.subarray(0, 60);
    const out = heap.subarray(60, 100);
    gatherV2Impl(x, Int32Array.from([1, 2]), { batch: 1, outer: 1, dim: 3, slice: 20, count: 2 }, out);
    expect(Array.from(out)).toEqual(Array.from({ length: 40 }, (_, i) => i + 21));
  });
});
