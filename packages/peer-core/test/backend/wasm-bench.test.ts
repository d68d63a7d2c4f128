import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fastMatMul,
  initBackend,
  registerWasmKernels,
  shutdownBackend,
  unregisterWasmKernels,
} from '../../src/backend/index.js';
import { seededInts, seededValues } from './helpers.js';

/**
 * Timings behind the numbers quoted in src/backend (medians, one thread, this machine). They run in
 * every test pass because each also asserts the speedup it exists for, with a wide margin.
 */
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(shutdownBackend);

/** Median milliseconds of `reps` runs of `fn` after one warm-up; results are read back and disposed. */
function median(fn: () => tf.Tensor | tf.Tensor[], reps: number): number {
  const times: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    const out = tf.tidy(fn);
    for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
    if (r > 0) times.push(performance.now() - t0);
    tf.dispose(out);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

const report: string[] = [];
afterAll(() => console.info(`wasm timings (ms, median):\n  ${report.join('\n  ')}`));

describe('wasm kernel timings', () => {
  it('GatherV2: embedding rows [4096x256], 8192 indices, ours vs stock vs cpu', async () => {
    const table = tf.tensor2d(seededValues(4096 * 256, 1), [4096, 256]);
    const idx = tf.tensor1d(seededInts(8192, 0, 4096, 2), 'int32');
    const ours = median(() => tf.gather(table, idx), 9);
    unregisterWasmKernels();
    let stock: number;
    try {
      stock = median(() => tf.gather(table, idx), 5);
    } finally {
      registerWasmKernels();
    }
    tf.dispose([table, idx]);
    await tf.setBackend('cpu');
    const t = tf.tensor2d(seededValues(4096 * 256, 1), [4096, 256]);
    const i = tf.tensor1d(seededInts(8192, 0, 4096, 2), 'int32');
    const cpu = median(() => tf.gather(t, i), 3);
    tf.dispose([t, i]);
    await tf.setBackend('wasm');
    report.push(
      `gather rows [4096x256] x 8192: ours ${ours.toFixed(1)}, stock wasm ${stock.toFixed(1)}, cpu ${cpu.toFixed(1)}`,
    );
    expect(ours).toBeLessThan(stock);
  });

  it('GatherV2: scores [2048x1024] with batchDims 1, 16 per row, ours vs stock (flattened to batchDims 0)', () => {
    const scores = tf.tensor2d(seededValues(2048 * 1024, 3), [2048, 1024]);
    const idx = tf.tensor2d(seededInts(2048 * 16, 0, 1024, 4), [2048, 16], 'int32');
    // Stock wasm is wrong for batchDims 1 (and crashes at this size), so it gets the equivalent
    // batchDims-0 gather on the flattened scores, with row offsets added to the indices.
    const flatScores = tf.reshape(scores, [-1]);
    const flatIdx = tf.tidy(() =>
      tf.add(idx, tf.mul(tf.range(0, 2048, 1, 'int32'), tf.scalar(1024, 'int32')).expandDims(1)),
    );
    const ours = median(() => tf.gather(scores, idx, 1, 1), 9);
    const oursFlat = median(() => tf.gather(flatScores, flatIdx), 9);
    unregisterWasmKernels();
    let stock: number;
    try {
      stock = median(() => tf.gather(flatScores, flatIdx), 5);
    } finally {
      registerWasmKernels();
    }
    tf.dispose([scores, idx, flatScores, flatIdx]);
    report.push(
      `gather scores [2048x1024], 16 per row: ours batchDims 1 ${ours.toFixed(2)}, ours flat ${oursFlat.toFixed(2)}, stock flat ${stock.toFixed(2)}`,
    );
    expect(ours).toBeLessThan(stock * 1.5);
  });

  it('UnsortedSegmentSum [8192x256] into 4096 segments, and the gather gradient it serves', () => {
    const rows = tf.tensor2d(seededValues(8192 * 256, 5), [8192, 256]);
    const ids = tf.tensor1d(seededInts(8192, 0, 4096, 6), 'int32');
    const segment = median(() => tf.unsortedSegmentSum(rows, ids, 4096), 9);
    const table = tf.tensor2d(seededValues(4096 * 256, 7), [4096, 256]);
    const grad = median(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), rows)))(table), 5);
    tf.dispose([rows, ids, table]);
    report.push(
      `unsortedSegmentSum [8192x256] -> 4096: ${segment.toFixed(1)}; grad(gather) of [4096x256] x 8192: ${grad.toFixed(1)}`,
    );
    expect(segment).toBeLessThan(200);
  });

  it('fastMatMul vs tf.matMul, forward + backward [1024x512]@[512x512]', () => {
    const a = tf.tensor2d(seededValues(1024 * 512, 8), [1024, 512]);
    const b = tf.tensor2d(seededValues(512 * 512, 9), [512, 512]);
    const fwdBwd = (mm: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D) => () =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(mm(x as tf.Tensor2D, y as tf.Tensor2D)))([a, b]);
    const stock = median(
      fwdBwd((x, y) => tf.matMul(x, y)),
      3,
    );
    const fast = median(
      fwdBwd((x, y) => fastMatMul(x, y)),
      5,
    );
    const stockT = median(
      fwdBwd((x, y) => tf.matMul(x, y, false, true)),
      3,
    );
    const fastT = median(
      fwdBwd((x, y) => fastMatMul(x, y, false, true)),
      5,
    );
    tf.dispose([a, b]);
    const x = (s: number, f: number) => `${(s / f).toFixed(1)}x`;
    report.push(
      `fwd+bwd [1024x512]@[512x512]: tf.matMul ${stock.toFixed(0)}, fastMatMul ${fast.toFixed(0)} (${x(stock, fast)})`,
    );
    report.push(
      `same with transposeB: tf.matMul ${stockT.toFixed(0)}, fastMatMul ${fastT.toFixed(0)} (${x(stockT, fastT)})`,
    );
    expect(fast).toBeLessThan(stock / 2);
    expect(fastT).toBeLessThan(stockT / 2);
  });
});
