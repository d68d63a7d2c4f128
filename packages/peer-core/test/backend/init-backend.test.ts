import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type BackendInfo,
  initBackend,
  type ModuleImporter,
  shutdownBackend,
} from '../../src/backend/index.js';
import { PeerBackendError, PeerConfigError } from '../../src/errors/peer-error.js';

afterEach(shutdownBackend);

/** Collects log lines instead of printing them. */
function logger() {
  const lines: string[] = [];
  return { lines, log: (msg: string) => lines.push(msg) };
}

const notInstalled: ModuleImporter = async (specifier) => {
  throw Object.assign(new Error(`Cannot find package '${specifier}' imported from /x.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
};

// What `npm ci --ignore-scripts` leaves behind: the package is there, its native addon is not.
const broken: ModuleImporter = async (specifier) => {
  throw new Error(
    `${specifier}: libtensorflow.so.2: cannot open shared object file: No such file or directory`,
  );
};

describe('initBackend', () => {
  it('starts an explicit cpu backend and logs one line, once', async () => {
    const { lines, log } = logger();
    const info = await initBackend({ backend: 'cpu', log });
    expect(info).toEqual({ name: 'cpu', simd: false, threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend({ log })).toBe(info);
    expect(await initBackend({ backend: 'cpu', log })).toBe(info);
    expect(lines).toEqual([
      expect.stringMatching(/^\[peer\] tensor backend: cpu \(no simd, 1 thread\); kernels: /),
    ]);
  });

  it('rejects an explicit request that conflicts with the running backend', async () => {
    await initBackend({ backend: 'cpu', log: () => {} });
    await expect(initBackend({ backend: 'wasm' })).rejects.toThrow(PeerBackendError);
    expect((await initBackend({ wasmThreads: 2 })).name).toBe('cpu'); // threads only matter on wasm
    await shutdownBackend();
    await initBackend({ env: { PEER_BACKEND: 'wasm', PEER_WASM_THREADS: '1' }, log: () => {} });
    expect((await initBackend({ wasmThreads: 1 })).name).toBe('wasm'); // same count, from env first
    await expect(initBackend({ wasmThreads: 2 })).rejects.toThrow(/not 2; call shutdownBackend\(\) first/);
  });

  it('takes PEER_BACKEND from the environment; an explicit option wins over it', async () => {
    expect(await initBackend({ env: { PEER_BACKEND: 'wasm' }, log: () => {} })).toMatchObject({
      name: 'wasm',
    });
    await shutdownBackend();
    const info = await initBackend({ backend: 'cpu', env: { PEER_BACKEND: 'wasm' }, log: () => {} });
    expect(info.name).toBe('cpu');
  });

  it('rejects invalid environment values, naming variable, bound and value', async () => {
    await expect(initBackend({ env: { PEER_BACKEND: 'gpu' } })).rejects.toThrow(PeerConfigError);
    await expect(initBackend({ env: { PEER_BACKEND: 'gpu' } })).rejects.toThrow(
      /'PEER_BACKEND' must be one of 'wasm', 'cpu', 'tensorflow', but got "gpu"/,
    );
    await expect(initBackend({ env: { PEER_WASM_THREADS: '0' } })).rejects.toThrow(/'PEER_WASM_THREADS'/);
    await expect(initBackend({ env: { PEER_WASM_THREADS: 'two' } })).rejects.toThrow(/an integer >= 1/);
    await expect(initBackend({ wasmThreads: 1.5 })).rejects.toThrow(/'wasmThreads' must be an integer >= 1/);
    // A failed call leaves nothing behind: the next one chooses afresh.
    expect(await initBackend({ env: { PEER_BACKEND: '' }, backend: 'cpu', log: () => {} })).toMatchObject({
      name: 'cpu',
    });
  });

  it('auto: without tfjs-node installed, picks wasm silently', async () => {
    const { lines, log } = logger();
    const info = await initBackend({ importModule: notInstalled, env: {}, log });
    expect(info).toEqual({ name: 'wasm', simd: true, threads: 1 });
    expect(lines).toEqual([
      '[peer] tensor backend: wasm (simd, 1 thread); kernels: native AVX2/FMA, 1 thread',
    ]);
  });

  it('auto: with the real importer (tfjs-node cannot install here), picks wasm', async () => {
    expect(await initBackend({ env: {}, log: () => {} })).toEqual({ name: 'wasm', simd: true, threads: 1 });
  });

  it('auto: a broken tfjs-node install falls back to wasm and says why', async () => {
    const { lines, log } = logger();
    const info = await initBackend({ importModule: broken, env: {}, log });
    expect(info.name).toBe('wasm');
    expect(info.fallbackReason).toMatch(
      /tfjs-node-gpu: .*libtensorflow.*; @tensorflow\/tfjs-node: .*libtensorflow/,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[peer\] tensor backend: wasm \(simd, 1 thread; fallback: .*libtensorflow/);
  });

  it('an explicit tensorflow request fails loudly when tfjs-node is unavailable', async () => {
    await expect(initBackend({ backend: 'tensorflow', importModule: broken })).rejects.toThrow(
      /'tensorflow' was requested but is unavailable: .*libtensorflow/,
    );
    await expect(
      initBackend({ env: { PEER_BACKEND: 'tensorflow' }, importModule: notInstalled }),
    ).rejects.toThrow(/neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is installed/);
  });

  it('auto: falls back to cpu when wasm cannot start', async () => {
    const engine = tf.engine();
    const original = engine.registryFactory.wasm;
    if (!original) throw new Error('wasm backend not registered');
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', () => {
      throw new Error('simulated: wasm binary missing');
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {}); // tfjs prints the failure
    try {
      const info = await initBackend({ importModule: notInstalled, env: {}, log: () => {} });
      expect(info).toMatchObject({ name: 'cpu', simd: false, threads: 1 });
      expect(info.fallbackReason).toMatch(/^wasm failed: /);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/Initialization of backend wasm failed/));
    } finally {
      warn.mockRestore();
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', original.factory, original.priority);
    }
  });
});

describe('initBackend with a tfjs-node stand-in', () => {
  /**
   * tfjs-node cannot install here, so this importer does what its index.ts does on import: register a
   * 'tensorflow' backend (priority 3) with kernels into the engine that `@tensorflow/tfjs` exports.
   * The backend is the cpu one under another name.
   */
  const fakeTfjsNode: ModuleImporter = async (specifier) => {
    if (specifier !== '@tensorflow/tfjs-node') return notInstalled(specifier);
    await tf.setBackend('cpu');
    const CpuBackend = tf.findBackend('cpu').constructor as new () => tf.KernelBackend;
    tf.registerBackend('tensorflow', () => new CpuBackend(), 3);
    for (const kernel of tf.getKernelsForBackend('cpu'))
      tf.registerKernel({ ...kernel, backendName: 'tensorflow' });
  };

  it('uses the tensorflow backend when the import succeeds, through the same tf namespace', async () => {
    const { lines, log } = logger();
    try {
      const info: BackendInfo = await initBackend({ importModule: fakeTfjsNode, env: {}, log });
      expect(info).toMatchObject({ name: 'tensorflow', simd: true });
      expect(info.fallbackReason).toBeUndefined();
      expect(tf.getBackend()).toBe('tensorflow');
      const product = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
      expect(Array.from(await product.data())).toEqual([3, 3, 3, 3]);
      product.dispose();
      expect(lines[0]).toMatch(/^\[peer\] tensor backend: tensorflow \(native, \d+ threads?\); kernels: /);
    } finally {
      await shutdownBackend();
      for (const kernel of tf.getKernelsForBackend('tensorflow'))
        tf.unregisterKernel(kernel.kernelName, 'tensorflow');
      tf.removeBackend('tensorflow');
    }
  });
});

describe('process listeners', () => {
  it("are left as they were by wasm start-up and shutdown (emscripten's rethrowing ones removed)", async () => {
    const own = () => {};
    process.on('unhandledRejection', own);
    const before = {
      rejection: process.listeners('unhandledRejection'),
      exception: process.listeners('uncaughtException'),
    };
    try {
      await initBackend({ backend: 'wasm', wasmThreads: 2, log: () => {} });
      await shutdownBackend();
      await initBackend({ backend: 'wasm', log: () => {} });
      await shutdownBackend();
      expect(process.listeners('unhandledRejection')).toEqual(before.rejection);
      expect(process.listeners('uncaughtException')).toEqual(before.exception);
    } finally {
      process.removeListener('unhandledRejection', own);
    }
  });
});

describe('memory', () => {
  it('initialising and shutting down leaves no tensors', async () => {
    // tf.memory() itself needs a backend: between shutdownBackend and initBackend there is none.
    await initBackend({ backend: 'cpu', log: () => {} });
    const before = tf.memory().numTensors;
    await shutdownBackend();
    await initBackend({ backend: 'wasm', wasmThreads: 2, log: () => {} });
    await shutdownBackend();
    await initBackend({ backend: 'cpu', log: () => {} });
    expect(tf.memory().numTensors).toBe(before);
  });
});
