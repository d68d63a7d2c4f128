import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, shutdownBackend } from '../../src/backend/index.js';
import { expectClose, runOn, seededInts, seededValues } from './helpers.js';

// Every case runs on cpu (the reference) and on wasm with our kernel, from the same data.
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(shutdownBackend);

interface Case {
  name: string;
  xShape: number[];
  ids: number[] | Int32Array;
  numSegments: number;
}

const cases: Case[] = [
  { name: '1-D x', xShape: [6], ids: [0, 2, 2, 1, 0, 2], numSegments: 3 },
  { name: 'rows of 5', xShape: [8, 5], ids: seededInts(8, 0, 4), numSegments: 4 },
  { name: 'rank 3 rows', xShape: [7, 3, 4], ids: seededInts(7, 0, 5, 3), numSegments: 5 },
  { name: 'negative and too-large ids dropped', xShape: [6, 3], ids: [0, -1, 4, 1, -7, 1], numSegments: 3 },
  { name: 'unused segments stay zero', xShape: [3, 2], ids: [5, 5, 5], numSegments: 9 },
  { name: 'gather-gradient size', xShape: [512, 64], ids: seededInts(512, 0, 100, 11), numSegments: 100 },
  { name: 'empty rows', xShape: [0, 4], ids: [], numSegments: 3 },
];

describe('UnsortedSegmentSum on wasm matches cpu', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const size = c.xShape.reduce((a, b) => a * b, 1);
      const x = seededValues(size, 5);
      const compute = () =>
        tf.unsortedSegmentSum(tf.tensor(x, c.xShape), tf.tensor1d(Array.from(c.ids), 'int32'), c.numSegments);
      const [cpu] = await runOn('cpu', compute);
      const [wasm] = await runOn('wasm', compute);
      expectClose(wasm, cpu);
    });
  }

  it('sums int32 values exactly, keeping the dtype', async () => {
    const [out] = await runOn('wasm', () =>
      tf.unsortedSegmentSum(
        tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'),
        tf.tensor1d([1, 1, 0], 'int32'),
        2,
      ),
    );
    expect(out).toEqual({ shape: [2, 2], dtype: 'int32', values: [5, 6, 4, 6] });
  });

  it('gives an empty [0, ...] result for numSegments 0 (where the cpu kernel crashes)', async () => {
    const [out] = await runOn('wasm', () =>
      tf.unsortedSegmentSum(tf.ones([3, 2]), tf.tensor1d([0, 1, 2], 'int32'), 0),
    );
    expect(out).toEqual({ shape: [0, 2], dtype: 'float32', values: [] });
  });

  it('handles 2-D segment ids (kernel contract: a prefix of x.shape)', async () => {
    await tf.setBackend('wasm');
    const out = tf.tidy(() => {
      const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
      const ids = tf.tensor2d([0, 1, 1, 0], [2, 2], 'int32');
      return tf
        .engine()
        .runKernel('UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 2 }) as tf.Tensor;
    });
    expect(out.shape).toEqual([2, 2]);
    expect(Array.from(await out.data())).toEqual([1 + 7, 2 + 8, 3 + 5, 4 + 6]);
    out.dispose();
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.ones([10, 3]);
    const ids = tf.tensor1d(seededInts(10, 0, 4), 'int32');
    tf.unsortedSegmentSum(x, ids, 4).dispose();
    x.dispose();
    ids.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
