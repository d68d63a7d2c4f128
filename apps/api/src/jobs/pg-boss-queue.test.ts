import { type AdapterStore, openStore } from '@peer/adapter-store';
import { initBackend } from '@peer/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../../test/support/deployment.js';
import { setupTrainingJob } from '../../test/support/job-fixtures.js';
import { throwawayDatabase } from '../../test/support/throwaway-database.js';
import { JobRunner } from './job-runner.js';
import { PgBossQueue } from './pg-boss-queue.js';
import { TrainThread } from './train-thread.js';

// The PostgreSQL queue needs a server: runs when DATABASE_URL is set (an empty one means unset, as in the API).
const url = TEST_DATABASE_URL;
describe.skipIf(url === undefined)('pg-boss queue on PostgreSQL', () => {
  let store: AdapterStore;
  let drop: () => Promise<void>;
  let dbUrl: string;
  const threads: TrainThread[] = [];
  const queues: PgBossQueue[] = [];

  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    const db = await throwawayDatabase(url as string, 'pgboss');
    ({ drop, url: dbUrl } = db);
    store = await openStore({ url: dbUrl });
  }, 60_000);
  afterAll(async () => {
    for (const q of queues) await q.stop({ graceMs: 1_000 });
    for (const t of threads) await t.close();
    await store?.close();
    await drop?.();
  }, 60_000);

  it('two workers share the queue; a worker dying after its commit is retried without a second commit', async () => {
    const { model, createJob } = await setupTrainingJob(store, 'boss');
    let crashes = 0;
    const start = async (workerId: string, crashOnce: boolean) => {
      const thread = new TrainThread();
      threads.push(thread);
      const runner = new JobRunner({
        store,
        thread,
        workerId,
        heartbeatMs: 200,
        staleAfterMs: 1_000,
        ...(crashOnce
          ? {
              afterCommit: () => {
                if (crashes++ === 0) throw new Error('killed after commit');
              },
            }
          : {}),
      });
      const queue = new PgBossQueue({ connectionString: dbUrl, runner, pollingIntervalSeconds: 0.5 });
      queues.push(queue);
      await queue.start();
      return queue;
    };
    const a = await start('boss-a', true);
    await start('boss-b', true);
    const job = await createJob();
    await a.enqueue(job);
    await a.enqueue(job); // idempotent per job id
    const deadline = Date.now() + 90_000;
    let current = await store.getJob(job.id);
    while (!['succeeded', 'failed', 'cancelled'].includes(current.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      current = await store.getJob(job.id);
    }
    expect(crashes).toBeGreaterThanOrEqual(1);
    expect(current).toMatchObject({ status: 'succeeded', attempts: 2 });
    const versions = await store.listVersions(model.id);
    expect(versions.filter((v) => v.lineage.extra.jobId === job.id)).toHaveLength(1);
    expect(current.resultVersionId).toBe(versions.at(-1)?.id);
  });
});
