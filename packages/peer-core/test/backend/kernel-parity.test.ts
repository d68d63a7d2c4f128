import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { initBackend, shutdownBackend } from '../../src/backend/index.js';
import { expectAllClose, runOn, seededInts, seededValues } from './helpers.js';

/**
 * Edge cases of the stock wasm kernels a PEER step runs (the list from kernel-audit.test.ts), against
 * cpu: negative operands, ties, NaN/Inf, int32, transposed and batched matMuls.
 */
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(shutdownBackend);

const f = (values: number[], shape?: number[]) => tf.tensor(values, shape ?? [values.length]);
const i = (values: number[], shape?: number[]) => tf.tensor(values, shape ?? [values.length], 'int32');
const mixed = [-7.5, -3, -2.5, -1, -0.5, 0, 0.5, 1, 2.5, 3, 7.5];
const rnd = (shape: number[], seed: number) =>
  tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

type Compute = () => tf.Tensor | tf.Tensor[];
// Long float32 sums (513 terms) differ in summation order between backends: a looser bound there.
const loose = new Set(['Large softmax, reductions, transpose, gather-free matMul']);

const cases: Record<string, Compute> = {
  'FloorDiv int32 negatives': () => tf.floorDiv(i([-7, -6, -1, 0, 1, 6, 7]), i([2, -4, 3, 5, -2, 4, -3])),
  'Mod int32 negatives': () => tf.mod(i([-7, -6, -1, 0, 1, 6, 7]), i([2, -4, 3, 5, -2, 4, -3])),
  'Mod float': () => tf.mod(f(mixed), 2),
  'Pow negative base, integer exponent': () => tf.pow(f(mixed), 3),
  'Pow fractional exponent': () => tf.pow(f([0, 0.25, 1, 4, 9]), 0.5),
  'Cast float to int32 (truncation)': () => tf.cast(f([-2.7, -0.5, 0.5, 2.7, 1e9]), 'int32'),
  // Stock wasm Cast copies with Uint8Array.set, giving 255 for -1 and 0 for 0.1 and 256: ours fixes it.
  'Cast float32 to bool': () => tf.cast(f([-1, 0, 0.1, Number.NaN, 2, -0, 1e-30]), 'bool'),
  'Cast int32 to bool': () => tf.cast(i([-1, 0, 1, 2, 256, -256]), 'bool'),
  'Cast bool to float32 and int32': () => {
    const b = tf.tensor1d([true, false, true], 'bool');
    return [tf.cast(b, 'float32'), tf.cast(b, 'int32')];
  },
  'Cast int32 to float32 and back': () => [
    tf.cast(i([-5, 0, 16777217]), 'float32'),
    tf.cast(f([-5, 3.9]), 'int32'),
  ],
  Erf: () => tf.erf(f(mixed)),
  'Tanh large': () => tf.tanh(f([-50, -10, -1e-3, 0, 1e-3, 10, 50])),
  'Sigmoid large': () => tf.sigmoid(f([-100, -20, 0, 20, 100])),
  'Exp / Log': () => [tf.exp(f(mixed)), tf.log(f([1e-30, 0.5, 1, 10, 1e30]))],
  'Rsqrt / Sqrt': () => [tf.rsqrt(f([1e-6, 0.5, 4, 1e6])), tf.sqrt(f([0, 1e-6, 2, 1e6]))],
  'Relu / Step at 0 and NaN': () => [tf.relu(f([-1, 0, 1, Number.NaN])), tf.step(f([-1, 0, 1]))],
  'Softmax extreme logits': () => tf.softmax(f([1000, 0, -1000, 999, 1, 1, 1, 1], [2, 4])),
  'Softmax with -Infinity': () => tf.softmax(f([Number.NEGATIVE_INFINITY, 0, 1, 2], [1, 4])),
  LogSoftmax: () => tf.logSoftmax(rnd([5, 7], 3)),
  'Max / Min / Sum / Mean axes': () => {
    const x = rnd([3, 4, 5], 4);
    return [tf.max(x, 1), tf.min(x, [0, 2]), tf.sum(x, -1, true), tf.mean(x, [0, 1])];
  },
  'Sum / Max int32': () => [tf.sum(i([1, 2, 3, 4, 5, 6], [2, 3]), 1), tf.max(i([-1, -5, 3, 2], [2, 2]), 0)],
  'ArgMax with ties': () => tf.argMax(f([1, 3, 3, 2, 5, 5, 5, 0], [2, 4]), 1),
  'TopK with ties (index order)': () => {
    const t = tf.topk(f([1, 3, 3, 2, 3, 0, 5, 5, 1, 5, 2, 2], [2, 6]), 3);
    return [t.values, t.indices];
  },
  'TopK large rows': () => {
    const t = tf.topk(rnd([8, 300], 5), 16);
    return [t.values, t.indices];
  },
  'OneHot negative and out-of-range': () => tf.oneHot(i([0, 2, -1, 5, 1]), 4),
  Select: () => tf.where(tf.greater(rnd([3, 4], 5), 0), rnd([3, 4], 6), rnd([3, 4], 7)),
  'Tile int32 and bool': () => [
    tf.tile(i([1, 2, 3, 4], [2, 2]), [2, 3]),
    tf.tile(tf.tensor1d([true, false], 'bool'), [3]),
  ],
  'Transpose rank 4': () => tf.transpose(rnd([2, 3, 4, 5], 8), [2, 0, 3, 1]),
  'Slice / Concat / Split': () => {
    const x = rnd([4, 6, 3], 9);
    return [tf.slice(x, [1, 2, 0], [2, 3, -1]), tf.concat([x, x], 1), ...tf.split(x, [1, 2, 3], 1)];
  },
  'ExpandDims / Reshape / Pack / Pad': () => {
    const x = rnd([3, 4], 10);
    return [
      tf.expandDims(x, 1),
      tf.reshape(x, [2, 6]),
      tf.stack([x, x], 1),
      tf.pad(
        x,
        [
          [1, 0],
          [0, 2],
        ],
        0.5,
      ),
    ];
  },
  'Equal / Greater / LogicalNot / ZerosLike': () => {
    const a = i(Array.from(seededInts(12, -2, 3, 4)));
    const b = i(Array.from(seededInts(12, -2, 3, 5)));
    return [tf.equal(a, b), tf.greater(a, b), tf.logicalNot(tf.equal(a, b)), tf.zerosLike(a)];
  },
  'Broadcast arithmetic': () => {
    const a = rnd([4, 1, 3], 11);
    const b = rnd([5, 1], 12);
    return [
      tf.add(a, b),
      tf.sub(a, b),
      tf.mul(a, b),
      tf.div(a, tf.add(tf.abs(b), 1)),
      tf.squaredDifference(a, b),
    ];
  },
  AddN: () => tf.addN([rnd([3, 3], 13), rnd([3, 3], 14), rnd([3, 3], 15)]),
  'MatMul 2-D and transposed': () => {
    const a = rnd([7, 5], 16);
    const b = rnd([5, 9], 17);
    return [tf.matMul(a, b), tf.matMul(tf.transpose(a), b, true), tf.matMul(a, tf.transpose(b), false, true)];
  },
  'BatchMatMul batched': () => tf.matMul(rnd([3, 4, 5], 18), rnd([3, 5, 2], 19)),
  // Sizes past the SIMD loop widths and XNNPACK's tiling, where a vectorised tail could go wrong.
  'Large elementwise': () => {
    const x = tf.mul(rnd([1001], 21), 6);
    return [
      tf.sigmoid(x),
      tf.tanh(x),
      tf.erf(x),
      tf.exp(x),
      tf.relu(x),
      tf.pow(x, 3),
      tf.rsqrt(tf.add(tf.abs(x), 1)),
    ];
  },
  'Large softmax, reductions, transpose, gather-free matMul': () => {
    const x = rnd([37, 513], 22);
    return [tf.softmax(x), tf.max(x, 1), tf.sum(x, 0), tf.transpose(x), tf.matMul(x, rnd([513, 33], 23))];
  },
  Moments: () => {
    const { mean, variance } = tf.moments(rnd([6, 5], 20), 0);
    return [mean, variance];
  },
};

describe('stock wasm kernels match cpu on edge cases', () => {
  for (const [name, compute] of Object.entries(cases)) {
    it(name, async () => {
      const cpu = await runOn('cpu', compute);
      const wasm = await runOn('wasm', compute);
      expectAllClose(wasm, cpu, loose.has(name) ? 3e-5 : 2e-6);
    });
  }
});
