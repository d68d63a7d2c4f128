import { Worker } from 'node:worker_threads';
import { JobError, jobErrorFromTask } from './job-errors.js';
import type {
  FromThread,
  ToThread,
  TrainProgressEvent,
  TrainTaskInput,
  TrainTaskOutput,
} from './train-task-types.js';
import { ownedBuffers } from './transfer.js';

interface Running {
  readonly id: number;
  readonly resolve: (output: TrainTaskOutput) => void;
  readonly reject: (error: Error) => void;
  readonly onProgress: ((p: TrainProgressEvent) => void) | undefined;
}

/**
 * The runner's handle on one long-lived training thread (STYLE: training never blocks the API's event
 * loop). Runs are serialised; the thread is started on first use and kept, since starting the tensor backend
 * costs seconds; a thread that dies fails its run with a retryable `thread_crashed` and is replaced on the next.
 */
export class TrainThread {
  private worker: Worker | undefined;
  private running: Running | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;

  /** Trains in the thread; aborting `signal` asks the thread to stop between steps. */
  run(
    input: TrainTaskInput,
    options: { onProgress?: (p: TrainProgressEvent) => void; signal?: AbortSignal } = {},
  ): Promise<TrainTaskOutput> {
    const result = this.queue.then(() => this.start(input, options));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Stops the thread (a run in progress fails with `thread_crashed`). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private start(
    input: TrainTaskInput,
    options: { onProgress?: (p: TrainProgressEvent) => void; signal?: AbortSignal },
  ): Promise<TrainTaskOutput> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<TrainTaskOutput>((resolve, reject) => {
      const onAbort = () => this.post(worker, { type: 'cancel', id });
      const done = () => {
        options.signal?.removeEventListener('abort', onAbort);
        this.running = undefined;
        worker.unref();
      };
      this.running = {
        id,
        onProgress: options.onProgress,
        resolve: (output) => {
          done();
          resolve(output);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      worker.ref();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.post(worker, { type: 'run', id, input }, inputBuffers(input));
      if (options.signal?.aborted) onAbort();
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./train-worker-bootstrap.mjs', import.meta.url), {
      workerData: { entry: new URL('./train-worker.ts', import.meta.url).href },
    });
    worker.unref();
    worker.on('message', (message: FromThread) => this.onMessage(message));
    const died = (reason: string) => {
      if (this.worker === worker) this.worker = undefined;
      this.running?.reject(new JobError('thread_crashed', `the training thread ${reason}`, true));
    };
    worker.on('error', (error) => died(`failed: ${error.message}`));
    worker.on('exit', (code) => died(`exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  private onMessage(message: FromThread): void {
    const running = this.running;
    if (message.type === 'ready' || !running) return;
    if (message.type === 'error' && message.id === 0) {
      running.reject(
        new JobError('thread_crashed', `the training thread could not start: ${message.error.message}`, true),
      );
      return;
    }
    if (message.id !== running.id) return;
    if (message.type === 'progress') running.onProgress?.(message.progress);
    else if (message.type === 'result') running.resolve(message.output);
    else running.reject(jobErrorFromTask(message.error));
  }

  private post(worker: Worker, message: ToThread, transfer: ArrayBuffer[] = []): void {
    worker.postMessage(message, transfer);
  }
}

/** The input's large buffers, transferred rather than copied (the runner built them for this run only). */
function inputBuffers(input: TrainTaskInput): ArrayBuffer[] {
  const data = [...input.history, input.current].flatMap((s) => [
    s.train.x,
    s.train.y,
    s.heldOut.x,
    s.heldOut.y,
  ]);
  return ownedBuffers([
    ...input.blocks.map((b) => b.bytes),
    ...data,
    input.replay.x,
    input.replay.y,
    input.replay.task,
  ]);
}
