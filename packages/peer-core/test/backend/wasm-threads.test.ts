import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { type BackendInfo, initBackend, shutdownBackend } from '../../src/backend/index.js';
import { startWasm } from '../../src/backend/start-wasm.js';
import { pthreadsOf } from '../../src/backend/wasm-threads-node.js';
import { expectClose, type Result, runOn, seededValues } from './helpers.js';
import { runPeerLikeStep } from './peer-like-step.js';

/**
 * The Node pthread shim: 1 and 2 threads in one process, same results, a speedup, clean shutdown.
 * Throughput is measured on [1024x512]x[512x2048] (2.15 GFLOP per product), as in DESIGN §8.
 */
afterAll(shutdownBackend);

const FLOP = 2 * 1024 * 512 * 2048;

function gflops(): number {
  const a = tf.tensor2d(seededValues(1024 * 512, 1), [1024, 512]);
  const b = tf.tensor2d(seededValues(512 * 2048, 2), [512, 2048]);
  tf.matMul(a, b).dispose(); // warm-up: XNNPACK packs weights and sizes its workspace
  const reps = 8;
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) {
    // Not tf.tidy(() => c.dataSync()): tidy walks a returned typed array element by element (seconds).
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }
  const ms = (performance.now() - t0) / reps;
  tf.dispose([a, b]);
  return FLOP / ms / 1e6;
}

/** A product whose rows XNNPACK splits across threads, read back for comparison. */
const product = () =>
  tf.matMul(
    tf.tensor2d(seededValues(300 * 200, 3), [300, 200]),
    tf.tensor2d(seededValues(200 * 500, 4), [200, 500]),
  );

describe('wasm threads under Node', () => {
  let single: { info: BackendInfo; gflops: number; result: Result };
  let threaded: { info: BackendInfo; gflops: number; result: Result };

  it('runs the stock single-threaded SIMD build by default', async () => {
    const info = await initBackend({ backend: 'wasm', log: () => {} });
    expect(info).toMatchObject({ name: 'wasm', simd: true, threads: 1 });
    expect(pthreadsOf(tf.backend())).toBeUndefined();
    single = { info, gflops: gflops(), result: (await runOn('wasm', product))[0] as Result };
  });

  it('runs 2 threads with the shim (PEER_WASM_THREADS=2) and computes the same product', async () => {
    await shutdownBackend();
    const lines: string[] = [];
    const info = await initBackend({
      backend: 'wasm',
      env: { PEER_WASM_THREADS: '2' },
      log: (m) => lines.push(m),
    });
    expect(lines).toEqual([
      expect.stringMatching(/^\[peer\] tensor backend: wasm \(simd, 2 threads\); kernels: /),
    ]);
    expect(info).toMatchObject({ name: 'wasm', simd: true, threads: 2 });
    expect(info.fallbackReason).toBeUndefined();
    expect(getThreadsCount()).toBe(2);
    threaded = { info, gflops: gflops(), result: (await runOn('wasm', product))[0] as Result };
    expectClose(threaded.result, single.result, 1e-6);
    const identical = threaded.result.values.every((v, i) => v === single.result.values[i]);
    console.info(
      `matMul [1024x512]x[512x2048]: 1 thread ${single.gflops.toFixed(1)} GFLOP/s, 2 threads ${threaded.gflops.toFixed(1)} GFLOP/s; results bit-identical: ${identical}`,
    );
    // No speed assertion: on a shared 2-core box another process can take the second core. The
    // numbers in src/backend/wasm-threads-node.ts come from runs on an idle machine.
  });

  it('runs our JS kernels on the shared heap: a PEER-like step equals cpu', async () => {
    const onThreads = await runPeerLikeStep();
    await tf.setBackend('cpu');
    const onCpu = await runPeerLikeStep();
    await tf.setBackend('wasm');
    expect(onThreads.routing).toEqual(onCpu.routing);
    expect(Math.abs(onThreads.loss - onCpu.loss)).toBeLessThan(1e-5);
    for (const [name, expected] of Object.entries(onCpu.grads)) {
      const scale = Math.max(1e-3, ...expected.map(Math.abs));
      const err = Math.max(
        0,
        ...expected.map((e, i) => Math.abs((onThreads.grads[name]?.[i] ?? Number.NaN) - e)),
      );
      expect(err / scale, name).toBeLessThan(1e-4);
    }
  });

  it('shutdownBackend terminates the pthread workers', async () => {
    const pthreads = pthreadsOf(tf.backend());
    const workers = [...(pthreads?.runningWorkers ?? []), ...(pthreads?.unusedWorkers ?? [])];
    expect(pthreads?.runningWorkers.length).toBeGreaterThanOrEqual(1);
    const exited = workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
    await shutdownBackend();
    await Promise.all(exited);
    // The factory is registered again: a fresh single-threaded backend starts.
    await expect(initBackend({ backend: 'wasm', log: () => {} })).resolves.toMatchObject({ threads: 1 });
  });

  it('lets a threaded process exit on its own (workers are unref’d)', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/threaded-exit.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
      timeout: 30_000,
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    expect(JSON.parse(stdout.trim())).toEqual({ threads: 2, value: 256 });
  });

  it('falls back to one thread, without crashing the process, when the pthread workers fail', async () => {
    await shutdownBackend();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'peer-test-'));
    const script = path.join(dir, 'broken-pthread.cjs');
    writeFileSync(script, "throw new Error('simulated pthread failure');\n");
    const info = await startWasm(2, { workerScript: script }).finally(() => rmSync(dir, { recursive: true }));
    expect(info).toMatchObject({ name: 'wasm', threads: 1 });
    expect(info.fallbackReason).toMatch(
      /wasm threads failed \(simulated pthread failure\); running 1 thread/,
    );
    const sum = tf.sum(tf.ones([10]));
    expect((await sum.data())[0]).toBe(10);
    sum.dispose();
  });
});
