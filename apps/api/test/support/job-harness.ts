import type { AdapterStore } from '@peer/adapter-store';
import { InProcessQueue } from '../../src/jobs/in-process-queue.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { TrainThread } from '../../src/jobs/train-thread.js';
import type { TestApp } from './test-app.js';

/** Polls `read` every 100 ms until `done` holds for its value; throws with the last value at the deadline. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A test app's training side: an in-process queue whose runner trains in a worker thread. */
export interface JobHarness {
  readonly queue: InProcessQueue;
  readonly thread: TrainThread;
  stop(): Promise<void>;
}

/** Starts an in-process job queue on `store` and plugs it into the app (`services.jobs`). */
export async function startJobQueue(t: TestApp, store: AdapterStore): Promise<JobHarness> {
  const thread = new TrainThread();
  const runner = new JobRunner({
    store,
    thread,
    workerId: 'test-worker',
    heartbeatMs: 200,
    staleAfterMs: 1_000,
  });
  const queue = new InProcessQueue(runner);
  t.services.jobs = queue;
  await queue.start();
  return {
    queue,
    thread,
    async stop() {
      await queue.stop({ graceMs: 1_000 });
      await thread.close();
    },
  };
}
