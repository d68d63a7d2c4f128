import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, shutdownBackend } from '../../src/backend/index.js';
import { expectClose, runOn, seededInts, seededValues } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(shutdownBackend);

interface Case {
  name: string;
  xShape: number[];
  idxShape: number[];
  axis: number;
  batchDims?: number;
  dtype?: 'float32' | 'int32' | 'bool';
}

const cases: Case[] = [
  { name: 'embedding rows, axis 0', xShape: [50, 64], idxShape: [40], axis: 0 },
  { name: 'scalar rows, axis 0', xShape: [50], idxShape: [9], axis: 0 },
  { name: '2-D indices, axis 0', xShape: [20, 7], idxShape: [3, 5], axis: 0 },
  { name: 'axis 1', xShape: [4, 9, 3], idxShape: [6], axis: 1 },
  { name: 'last axis (-1)', xShape: [3, 4, 10], idxShape: [2, 2], axis: -1 },
  { name: 'batchDims 1, scores', xShape: [6, 30], idxShape: [6, 8], axis: 1, batchDims: 1 },
  { name: 'batchDims 1, rows', xShape: [3, 10, 32], idxShape: [3, 4], axis: 1, batchDims: 1 },
  { name: 'batchDims 1, axis 2', xShape: [2, 3, 8, 2], idxShape: [2, 5], axis: 2, batchDims: 1 },
  { name: 'batchDims 2', xShape: [2, 3, 5, 4], idxShape: [2, 3, 4], axis: 2, batchDims: 2 },
  { name: 'batchDims 2, scalar slices', xShape: [2, 2, 3], idxShape: [2, 2, 2], axis: 2, batchDims: 2 },
  { name: 'batchDims -1', xShape: [4, 6], idxShape: [4, 3], axis: 1, batchDims: -1 },
  { name: 'int32 table', xShape: [12, 5], idxShape: [7], axis: 0, dtype: 'int32' },
  { name: 'bool table', xShape: [12, 3], idxShape: [7], axis: 0, dtype: 'bool' },
  { name: 'empty indices', xShape: [12, 3], idxShape: [0], axis: 0 },
  { name: 'empty slices', xShape: [5, 0], idxShape: [3], axis: 0 },
];

/** Indices valid for the case: in [0, x.shape[axis]). */
function indicesFor(c: Case): Int32Array {
  const axis = c.axis < 0 ? c.xShape.length + c.axis : c.axis;
  const size = c.idxShape.reduce((a, b) => a * b, 1);
  return seededInts(size, 0, c.xShape[axis] as number, size + 3);
}

function tableFor(c: Case): tf.Tensor {
  const values = seededValues(
    c.xShape.reduce((a, b) => a * b, 1),
    9,
  );
  if (c.dtype === 'int32')
    return tf.tensor(
      Int32Array.from(values, (v) => Math.round(v * 1000)),
      c.xShape,
      'int32',
    );
  if (c.dtype === 'bool')
    return tf.tensor(
      Uint8Array.from(values, (v) => (v > 0 ? 1 : 0)),
      c.xShape,
      'bool',
    );
  return tf.tensor(values, c.xShape);
}

describe('GatherV2 on wasm matches cpu', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const idx = indicesFor(c);
      const compute = () =>
        tf.gather(tableFor(c), tf.tensor(idx, c.idxShape, 'int32'), c.axis, c.batchDims ?? 0);
      const [cpu] = await runOn('cpu', compute);
      const [wasm] = await runOn('wasm', compute);
      expectClose(wasm, cpu, 0);
    });
  }

  it('rejects out-of-range and negative indices, naming the bound', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([5, 2]);
    for (const bad of [5, -1]) {
      const idx = tf.tensor1d([0, bad], 'int32');
      expect(() => tf.gather(x, idx)).toThrow(/gather indices\[1\]' must be in \[0, 4\]/);
      idx.dispose();
    }
    x.dispose();
  });
});

describe('gradient of gather (UnsortedSegmentSum) on wasm matches cpu', () => {
  const gradCases: Case[] = [
    { name: 'axis 0 with repeated ids', xShape: [30, 16], idxShape: [64], axis: 0 },
    { name: 'axis 1', xShape: [4, 12, 3], idxShape: [10], axis: 1 },
    { name: 'batchDims 1 (scores)', xShape: [5, 20], idxShape: [5, 6], axis: 1, batchDims: 1 },
  ];
  for (const c of gradCases) {
    it(c.name, async () => {
      const idx = indicesFor(c);
      const compute = () => {
        const x = tableFor(c);
        const gather = (t: tf.Tensor) =>
          tf.gather(t, tf.tensor(idx, c.idxShape, 'int32'), c.axis, c.batchDims ?? 0);
        // Distinct weights per gathered element, so a row credited to the wrong id shows up.
        const outShape = gather(x).shape;
        const weights = tf.tensor(
          seededValues(
            outShape.reduce((a, b) => a * b, 1),
            4,
          ),
          outShape,
        );
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gather(t), weights)))(x);
      };
      const [cpu] = await runOn('cpu', compute);
      const [wasm] = await runOn('wasm', compute);
      expectClose(wasm, cpu, 1e-6);
    });
  }
});

describe('memory', () => {
  it('leaks no tensors in forward or gradient', async () => {
    await tf.setBackend('wasm');
    const x = tf.variable(tf.ones([8, 4]));
    const idx = tf.tensor1d([1, 3, 3, 7], 'int32');
    const before = tf.memory().numTensors;
    tf.gather(x, idx).dispose();
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.gather(x, idx)) as tf.Scalar);
    value.dispose();
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    idx.dispose();
  });
});
