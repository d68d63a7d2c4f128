import { AlreadyExistsError, type Job } from '@peer/adapter-store';
import { initBackend } from '@peer/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupTrainingJob } from '../../test/support/job-fixtures.js';
import { type DriverStore, servingDrivers } from '../../test/support/serving-fixtures.js';
import { JobError } from './job-errors.js';
import { JobRunner } from './job-runner.js';
import { TrainThread } from './train-thread.js';

const STALE_MS = 600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

describe.each(servingDrivers())('job runner: crashes, retries, exactly one commit (%s)', (_driver, open) => {
  let db: DriverStore;
  let thread: TrainThread;
  beforeAll(async () => {
    db = await open();
    thread = new TrainThread();
  }, 60_000);
  afterAll(async () => {
    await thread?.close();
    await db?.cleanup();
  }, 60_000);

  const runner = (workerId: string, extra: Partial<ConstructorParameters<typeof JobRunner>[0]> = {}) =>
    new JobRunner({ store: db.store, thread, workerId, heartbeatMs: 100, staleAfterMs: STALE_MS, ...extra });

  it('a worker that dies after committing is retried; the retry finishes with that version, never a second', async () => {
    const { model, stream, createJob } = await setupTrainingJob(db.store, 'crash');
    const job = await createJob();
    const crashed = runner('worker-a', {
      afterCommit: () => {
        throw new Error('power cut');
      },
    });
    const first = await crashed.run(job.id);
    expect(first).toEqual({ kind: 'abandoned', reason: 'crash' });
    const committed = await db.store.findVersionByJob(model.id, job.id);
    expect(committed).toBeDefined();
    expect((await db.store.getJob(job.id)).status).toBe('running'); // nobody finished it
    // Trained on the acknowledged batch only: its offsets, never the discarded one's.
    expect(committed?.lineage).toMatchObject({ streamId: stream.id, ingestFrom: 0, ingestTo: 150 });

    // Another worker cannot take it while the dead one's heartbeat is fresh...
    const rescuer = runner('worker-b');
    expect((await rescuer.run(job.id)).kind).toBe('skipped');
    await sleep(STALE_MS + 200);
    // ...and once it is stale, finishes it with the committed version instead of training again.
    const second = await rescuer.run(job.id);
    expect(second.kind).toBe('finished');
    const finished = (second as { job: Job }).job;
    expect(finished).toMatchObject({ status: 'succeeded', attempts: 2, resultVersionId: committed?.id });
    const versions = await db.store.listVersions(model.id);
    expect(versions.filter((v) => v.lineage.extra.jobId === job.id)).toHaveLength(1);
    expect(versions).toHaveLength(2);
    const batches = await db.store.listBatches(stream.id);
    expect(batches.map((b) => b.status)).toEqual(['consumed', 'discarded']);
    const events = await db.store.listJobEvents(job.id);
    expect(events.map((e) => e.type).slice(-2)).toEqual(['metrics', 'done']);

    // A second commit carrying the same job id is refused by the store, whoever attempts it.
    const head = (await db.store.getModel(model.id)).headVersionId;
    await expect(
      db.store.commitVersion({
        modelId: model.id,
        parentId: head,
        blocks: [],
        lineage: { extra: { jobId: job.id } },
      }),
    ).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it('two workers racing on one job: exactly one commits', async () => {
    const { model, createJob } = await setupTrainingJob(db.store, 'race');
    const job = await createJob();
    const [a, b] = await Promise.all([runner('worker-c').run(job.id), runner('worker-d').run(job.id)]);
    expect([a.kind, b.kind].sort()).toEqual(['finished', 'skipped']);
    const versions = await db.store.listVersions(model.id);
    expect(versions.filter((v) => v.lineage.extra.jobId === job.id)).toHaveLength(1);
  });

  it('retries a failing attempt up to maxAttempts, then fails the job with the error', async () => {
    const { model, createJob } = await setupTrainingJob(db.store, 'flaky');
    const job = await createJob(2);
    const failing = {
      run: async () => {
        throw new JobError('thread_crashed', 'the training thread exited with code 134', true);
      },
    } as unknown as TrainThread;
    const flaky = runner('worker-e', { thread: failing });
    const first = await flaky.run(job.id);
    expect(first.kind).toBe('retry');
    await sleep(STALE_MS + 200);
    const second = await flaky.run(job.id);
    expect(second.kind).toBe('finished');
    expect((second as { job: Job }).job).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'thread_crashed' },
    });
    expect(await db.store.findVersionByJob(model.id, job.id)).toBeUndefined();
    const types = (await db.store.listJobEvents(job.id)).map((e) => e.type);
    expect(types).toEqual(['retrying', 'failed']);
  });

  it('on shutdown hands a running job back, or fails it as interrupted where nobody could resume it', async () => {
    const { model, createJob } = await setupTrainingJob(db.store, 'shutdown');
    const stopDuring = async (onShutdown: 'hand-back' | 'fail') => {
      const job = await createJob(3, 100_000);
      const shutdown = new AbortController();
      const run = runner(`worker-${onShutdown}`).run(job.id, { signal: shutdown.signal, onShutdown });
      for (let i = 0; i < 100 && (await db.store.getJob(job.id)).status !== 'running'; i++) await sleep(50);
      await sleep(500);
      shutdown.abort();
      return { job, outcome: await run };
    };
    const handed = await stopDuring('hand-back');
    expect(handed.outcome).toEqual({ kind: 'abandoned', reason: 'shutdown' });
    expect((await db.store.getJob(handed.job.id)).status).toBe('running'); // claimable once stale
    const failed = await stopDuring('fail');
    expect(failed.outcome.kind).toBe('finished');
    expect((await db.store.getJob(failed.job.id)).error).toMatchObject({ code: 'interrupted' });
    expect(await db.store.findVersionByJob(model.id, failed.job.id)).toBeUndefined();
  });
});
