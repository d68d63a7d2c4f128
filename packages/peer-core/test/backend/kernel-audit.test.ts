import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, shutdownBackend, wasmKernelConfigs } from '../../src/backend/index.js';
import { runPeerLikeStep, type StepResult } from './peer-like-step.js';

/**
 * Which kernels does a PEER forward + backward + Adam step run, and does wasm have (correct) ones?
 * Recorded on cpu, the reference backend that has every kernel.
 */
beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});
afterAll(shutdownBackend);

let kernels: string[] = [];
let cpuResult: StepResult;

describe('kernel audit of a PEER-like training step', () => {
  it('records the kernels on cpu', async () => {
    await tf.setBackend('cpu');
    let result: StepResult | undefined;
    const profile = await tf.profile(async () => {
      result = await runPeerLikeStep();
    });
    // kernelNames also holds op scopes ('logSoftmax__op', customGrad's 'unnamed scope'): keep kernels.
    kernels = [...new Set(profile.kernelNames)].filter((n) => tf.getKernel(n, 'cpu') !== undefined).sort();
    cpuResult = result as StepResult;
    console.info(`kernels of a PEER step (${kernels.length}): ${kernels.join(' ')}`);
    for (const name of ['GatherV2', 'UnsortedSegmentSum', 'BatchMatMul', 'TopK', 'Softmax']) {
      expect(kernels).toContain(name);
    }
  });

  it('finds every one registered for wasm', () => {
    const missing = kernels.filter((name) => tf.getKernel(name, 'wasm') === undefined);
    expect(missing).toEqual([]);
  });

  it('lists which of them are ours', () => {
    const ours = wasmKernelConfigs.map((c) => c.kernelName).filter((n) => kernels.includes(n));
    console.info(`replaced or added on wasm: ${ours.join(' ')}`);
    expect(ours.sort()).toEqual(['Cast', 'GatherV2', 'UnsortedSegmentSum']);
  });

  it('gives the same loss, gradients and Adam update on wasm as on cpu', async () => {
    await tf.setBackend('wasm');
    const wasm = await runPeerLikeStep();
    expect(wasm.routing).toEqual(cpuResult.routing);
    expect(wasm.predictions).toEqual(cpuResult.predictions);
    expect(Math.abs(wasm.loss - cpuResult.loss)).toBeLessThan(1e-5 * (1 + Math.abs(cpuResult.loss)));
    expect(Object.keys(wasm.grads).sort()).toEqual(Object.keys(cpuResult.grads).sort());
    const pairs = [
      ...Object.entries(cpuResult.grads).map(([n, e]) => [`grad ${n}`, e, wasm.grads[n]] as const),
      ...Object.entries(cpuResult.updated).map(([n, e]) => [`updated ${n}`, e, wasm.updated[n]] as const),
    ];
    for (const [name, expected, actual = []] of pairs) {
      const scale = Math.max(1e-3, ...expected.map(Math.abs));
      const err = Math.max(0, ...expected.map((e, i) => Math.abs((actual[i] ?? Number.NaN) - e)));
      expect(err / scale, `${name}`).toBeLessThan(1e-4);
    }
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    await runPeerLikeStep();
    expect(tf.memory().numTensors).toBe(before);
  });
});
