import { Worker } from 'node:worker_threads';
import { PeerBackendError } from '../errors/peer-error.js';
import type { PeerSimdExports } from './simd-module.js';

/** The kernels a worker can run (by position in this list). */
export type WorkerKernel = 'topkRows' | 'productTopk' | 'expertsForward' | 'expertsBackward';
const KERNELS: readonly WorkerKernel[] = ['topkRows', 'productTopk', 'expertsForward', 'expertsBackward'];

// Control words (Int32, shared): the job number posted, the job number finished, which kernel (-1 = exit),
// whether it threw, and how many arguments.
const POSTED = 0;
const FINISHED = 1;
const KERNEL = 2;
const FAILED = 3;
const ARGC = 4;
const MAX_ARGS = 16;
/** A job that takes longer than this is taken as a dead worker. */
const WAIT_LIMIT_MS = 120_000;

// Plain CommonJS evaluated in the worker (`eval: true`), so it runs the same under node, tsx and vitest
// without a loader for TypeScript. It instantiates its own copy of the kernels over the shared memory and
// then sleeps in Atomics.wait between jobs: no event loop traffic, wake-up in microseconds.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, args, kernels } = workerData;
const wasm = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctrl = new Int32Array(control);
const a = new Float64Array(args);
let seen = 0;
for (;;) {
  Atomics.wait(ctrl, ${POSTED}, seen);
  seen = Atomics.load(ctrl, ${POSTED});
  const name = kernels[ctrl[${KERNEL}]];
  if (name === undefined) break;
  let failed = 0;
  try {
    wasm[name](...a.subarray(0, ctrl[${ARGC}]));
  } catch {
    failed = 1;
  }
  Atomics.store(ctrl, ${FAILED}, failed);
  Atomics.store(ctrl, ${FINISHED}, seen);
  Atomics.notify(ctrl, ${FINISHED});
}
`;

/**
 * A second thread that runs kernels on the same shared memory: `post` a job, do the other half on the calling
 * thread, then `wait`. The worker is unref'ed (it never keeps the process alive) and is started eagerly so its
 * start-up (~30 ms) overlaps other work.
 */
export class KernelWorker {
  private readonly worker: Worker;
  private readonly control = new Int32Array(new SharedArrayBuffer(8 * 4));
  private readonly args = new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8));
  private posted = 0;
  private closed = false;

  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module, memory, control: this.control.buffer, args: this.args.buffer, kernels: KERNELS },
    });
    this.worker.unref();
    // A failure surfaces as a timeout in `wait`; keep the event from crashing the process meanwhile.
    this.worker.on('error', () => {
      this.closed = true;
    });
  }

  /** Starts `kernel(...args)` on the worker (pointers may be >= 2^31: they travel as float64). */
  post(kernel: WorkerKernel, args: readonly number[]): void {
    if (this.closed) throw new PeerBackendError('kernel worker is closed');
    this.args.set(args);
    this.control[KERNEL] = KERNELS.indexOf(kernel);
    this.control[ARGC] = args.length;
    this.posted++;
    Atomics.store(this.control, POSTED, this.posted);
    Atomics.notify(this.control, POSTED);
  }

  /** Blocks until the last posted job is done; throws PeerBackendError if it threw or the worker is gone. */
  wait(): void {
    const deadline = performance.now() + WAIT_LIMIT_MS;
    for (;;) {
      const finished = Atomics.load(this.control, FINISHED);
      if (finished === this.posted) break;
      if (performance.now() > deadline) {
        this.closed = true;
        throw new PeerBackendError(`kernel worker did not finish job ${this.posted} in ${WAIT_LIMIT_MS} ms`);
      }
      Atomics.wait(this.control, FINISHED, finished, 1000);
    }
    if (this.control[FAILED] !== 0) throw new PeerBackendError('kernel worker: the wasm kernel trapped');
  }

  /** Stops the worker thread. */
  close(): Promise<number> {
    this.closed = true;
    return this.worker.terminate();
  }
}

/** The worker's kernel arguments, in the order of the wasm export `kernel`. */
export type KernelArgs<K extends WorkerKernel> = Parameters<PeerSimdExports[K]>;
