import { openStore } from '@peer/adapter-store';
import { initBackend } from '@peer/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTrainingJob } from '../../test/support/job-fixtures.js';
import { InProcessQueue } from './in-process-queue.js';
import { JobRunner } from './job-runner.js';
import { TrainThread } from './train-thread.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe('in-process queue (embedded database)', () => {
  let thread: TrainThread;
  beforeAll(() => {
    thread = new TrainThread();
  });
  afterAll(async () => {
    await thread?.close();
  }, 60_000);

  it('resumes on start the jobs an earlier process left queued or running (crashed)', async () => {
    const store = await openStore({ memory: true });
    try {
      const { createJob, model } = await setupTrainingJob(store, 'recover');
      const queued = await createJob();
      const orphan = await createJob();
      // A process that claimed `orphan` and died (SIGKILL) before finishing it.
      await store.claimJob(orphan.id, 'dead-worker');
      const runner = new JobRunner({
        store,
        thread,
        workerId: 'restarted',
        heartbeatMs: 100,
        staleAfterMs: 500,
      });
      const recover = async () => (await store.listUnfinishedJobs()).map((j) => j.id);
      const queue = new InProcessQueue(runner, recover);
      await queue.start();
      const deadline = Date.now() + 90_000;
      let jobs = await Promise.all([store.getJob(queued.id), store.getJob(orphan.id)]);
      while (jobs.some((j) => j.status !== 'succeeded') && Date.now() < deadline) {
        await sleep(200);
        jobs = await Promise.all([store.getJob(queued.id), store.getJob(orphan.id)]);
      }
      await queue.stop({ graceMs: 1_000 });
      expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
      expect(jobs[1]?.attempts).toBe(2); // the dead worker's attempt, then this one
      const versions = await store.listVersions(model.id);
      expect(versions).toHaveLength(3);
      expect(new Set(versions.map((v) => v.lineage.extra.jobId)).size).toBe(3);
    } finally {
      await store.close();
    }
  });
});
