import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  type Job,
  JobStateError,
  NotFoundError,
  StoreValidationError,
} from '../../src/index.js';
import { smallBlock, tableBlocks } from '../helpers/layer.js';
import { freshModel, type HarnessRef, type StoreHarness } from './harness.js';

/** Makes a running job's heartbeat look like its worker died an hour ago. */
async function stale(h: StoreHarness, job: Job): Promise<void> {
  await h.exec(`update jobs set heartbeat_at = now() - interval '1 hour' where id = '${job.id}'`);
}

/** Durable jobs: claim, heartbeat, events, finish once, cancel; and a job commits at most once. */
export function jobContract(h: HarnessRef): void {
  describe('jobs', () => {
    it('runs a job through its lifecycle: claim, heartbeat, ordered events, finish exactly once', async () => {
      const { store } = h();
      const other = await h().openAnother();
      try {
        const { tenant, model } = await freshModel(store);
        const queuedBefore = await store.countJobs({ statuses: ['queued'] });
        const job = await store.createJob({
          tenantId: tenant.id,
          modelId: model.id,
          kind: 'train',
          spec: { steps: 10, lr: 0.001 },
        });
        expect(job).toMatchObject({
          status: 'queued',
          attempts: 0,
          maxAttempts: 3,
          worker: null,
          progress: {},
          spec: { steps: 10, lr: 0.001 },
          cancelRequested: false,
          resultVersionId: null,
          error: null,
          startedAt: null,
        });
        expect(await store.countJobs({ statuses: ['queued'] })).toBe(queuedBefore + 1);

        const claimed = await store.claimJob(job.id, 'worker-1');
        expect(claimed).toMatchObject({ status: 'running', attempts: 1, worker: 'worker-1' });
        expect(claimed?.startedAt).toBeInstanceOf(Date);
        expect(claimed?.heartbeatAt).toBeInstanceOf(Date);
        // Held by a live worker: nobody else gets it, not even from another store.
        expect(await other.claimJob(job.id, 'worker-2')).toBeUndefined();
        expect(await store.countJobs({ statuses: ['queued', 'running'] })).toBeGreaterThanOrEqual(1);

        expect(await store.heartbeatJob(job.id, 'worker-1', { step: 3, loss: 0.5 })).toEqual({
          cancelRequested: false,
        });
        expect((await store.getJob(job.id)).progress).toEqual({ step: 3, loss: 0.5 });
        await expect(store.heartbeatJob(job.id, 'worker-2')).rejects.toBeInstanceOf(JobStateError);

        // Concurrent appends from two stores still number 1..n without gaps or duplicates.
        const appended = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            (i % 2 ? other : store).appendJobEvent(job.id, 'progress', { i }),
          ),
        );
        expect(appended.map((e) => e.seq).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 12 }, (_, i) => i + 1),
        );
        const events = await store.listJobEvents(job.id);
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
        expect(events.every((e) => e.type === 'progress' && e.jobId === job.id)).toBe(true);
        expect(events[0]?.createdAt).toBeInstanceOf(Date);
        expect((await store.listJobEvents(job.id, { afterSeq: 10 })).map((e) => e.seq)).toEqual([11, 12]);
        expect((await store.listJobEvents(job.id, { afterSeq: 2, limit: 3 })).map((e) => e.seq)).toEqual([
          3, 4, 5,
        ]);
        expect(await store.listJobEvents(job.id, { afterSeq: 12 })).toEqual([]);

        const v1 = await store.commitVersion({
          modelId: model.id,
          parentId: null,
          blocks: [smallBlock('a', 1)],
          lineage: { extra: { jobId: job.id } },
        });
        await expect(
          store.finishJob(job.id, 'worker-2', { status: 'failed', error: { code: 'x' } }),
        ).rejects.toBeInstanceOf(JobStateError);
        const done = await store.finishJob(job.id, 'worker-1', {
          status: 'succeeded',
          resultVersionId: v1.version.id,
        });
        expect(done).toMatchObject({ status: 'succeeded', resultVersionId: v1.version.id, error: null });
        expect(done.finishedAt).toBeInstanceOf(Date);
        // A finished job is never changed again.
        const again = await store
          .finishJob(job.id, 'worker-1', { status: 'failed', error: { code: 'late' } })
          .catch((e: unknown) => e);
        expect(again).toBeInstanceOf(JobStateError);
        expect(again).toMatchObject({ code: 'job_state', jobId: job.id, status: 'succeeded' });
        await expect(store.heartbeatJob(job.id, 'worker-1')).rejects.toBeInstanceOf(JobStateError);
        expect(await store.claimJob(job.id, 'worker-3', { staleAfterMs: 0 })).toBeUndefined();
        expect(await store.requestJobCancel(job.id)).toEqual(done);
        expect(await store.getJob(job.id)).toEqual(done);
        // Events may still be appended after the end (e.g. by the API).
        expect((await store.appendJobEvent(job.id, 'finished', { ok: true })).seq).toBe(13);

        expect((await store.listJobs(model.id)).map((j) => j.id)).toEqual([job.id]);
        expect(await store.listJobs(model.id, { status: 'queued' })).toEqual([]);
        expect((await store.listJobs(model.id, { status: 'succeeded' })).map((j) => j.id)).toEqual([job.id]);
      } finally {
        await other.close();
      }
    });

    it("re-claims a crashed worker's job with one more attempt, and fails it when attempts run out", async () => {
      const { store } = h();
      const { tenant, model } = await freshModel(store);
      const job = await store.createJob({
        tenantId: tenant.id,
        modelId: model.id,
        kind: 'train-adapter',
        spec: {},
        maxAttempts: 2,
      });
      expect(await store.claimJob(job.id, 'worker-1')).toMatchObject({ attempts: 1 });
      await stale(h(), job);
      const taken = await store.claimJob(job.id, 'worker-2');
      expect(taken).toMatchObject({ status: 'running', attempts: 2, worker: 'worker-2' });
      // The presumed-dead worker wakes up: it owns nothing any more.
      await expect(store.heartbeatJob(job.id, 'worker-1')).rejects.toBeInstanceOf(JobStateError);
      await expect(store.finishJob(job.id, 'worker-1', { status: 'succeeded' })).rejects.toBeInstanceOf(
        JobStateError,
      );
      // Not stale yet by the caller's own threshold.
      expect(await store.claimJob(job.id, 'worker-3', { staleAfterMs: 3_600_000 })).toBeUndefined();

      await stale(h(), job);
      expect(await store.claimJob(job.id, 'worker-3')).toBeUndefined();
      const failed = await store.getJob(job.id);
      expect(failed).toMatchObject({
        status: 'failed',
        attempts: 2,
        error: { code: 'attempts_exhausted', attempts: 2, maxAttempts: 2 },
      });
      expect(failed.finishedAt).toBeInstanceOf(Date);
      await expect(store.finishJob(job.id, 'worker-2', { status: 'succeeded' })).rejects.toBeInstanceOf(
        JobStateError,
      );
    });

    it('lists the unfinished jobs of every model, oldest first', async () => {
      const { store } = h();
      const a = await freshModel(store);
      const b = await freshModel(store);
      const queued = await store.createJob({
        tenantId: a.tenant.id,
        modelId: a.model.id,
        kind: 'train',
        spec: {},
      });
      const running = await store.createJob({
        tenantId: b.tenant.id,
        modelId: b.model.id,
        kind: 'train',
        spec: {},
      });
      const done = await store.createJob({
        tenantId: b.tenant.id,
        modelId: b.model.id,
        kind: 'train',
        spec: {},
      });
      await store.claimJob(running.id, 'w1');
      await store.claimJob(done.id, 'w1');
      await store.finishJob(done.id, 'w1', { status: 'succeeded' });
      const ids = (await store.listUnfinishedJobs({ limit: 100_000 })).map((j) => j.id);
      expect(ids).toContain(queued.id);
      expect(ids).toContain(running.id);
      expect(ids).not.toContain(done.id);
      expect(ids.indexOf(queued.id)).toBeLessThan(ids.indexOf(running.id));
    });

    it('cancels a queued job at once and flags a running one for its heartbeat', async () => {
      const { store } = h();
      const { tenant, model } = await freshModel(store);
      const create = () =>
        store.createJob({ tenantId: tenant.id, modelId: model.id, kind: 'train', spec: {} });

      const queued = await create();
      const cancelled = await store.requestJobCancel(queued.id);
      expect(cancelled).toMatchObject({ status: 'cancelled', cancelRequested: true });
      expect(cancelled.finishedAt).toBeInstanceOf(Date);
      expect(await store.claimJob(queued.id, 'worker-1')).toBeUndefined();
      expect(await store.requestJobCancel(queued.id)).toEqual(cancelled);

      const running = await create();
      await store.claimJob(running.id, 'worker-1');
      expect(await store.requestJobCancel(running.id)).toMatchObject({
        status: 'running',
        cancelRequested: true,
        finishedAt: null,
      });
      expect(await store.heartbeatJob(running.id, 'worker-1', { step: 7 })).toEqual({
        cancelRequested: true,
      });
      expect(await store.finishJob(running.id, 'worker-1', { status: 'cancelled' })).toMatchObject({
        status: 'cancelled',
        progress: { step: 7 },
      });

      // Its worker died before honouring the cancel: the next claim completes the cancel instead.
      const orphan = await create();
      await store.claimJob(orphan.id, 'worker-1');
      await store.requestJobCancel(orphan.id);
      await stale(h(), orphan);
      expect(await store.claimJob(orphan.id, 'worker-2')).toBeUndefined();
      expect(await store.getJob(orphan.id)).toMatchObject({ status: 'cancelled', attempts: 1 });
    });

    it('refuses bad job input and unknown jobs', async () => {
      const { store } = h();
      const { tenant, model } = await freshModel(store);
      const foreign = await freshModel(store);
      const ghost = '00000000-0000-4000-8000-000000000000';
      const base = { tenantId: tenant.id, modelId: model.id, kind: 'train' as const, spec: {} };
      const fieldOf = (p: Promise<unknown>) =>
        p.then(
          () => 'resolved',
          (e: unknown) => (e instanceof StoreValidationError ? e.field : e),
        );
      expect(await fieldOf(store.createJob({ ...base, kind: 'eval' as 'train' }))).toBe('kind');
      expect(await fieldOf(store.createJob({ ...base, spec: null }))).toBe('spec');
      expect(await fieldOf(store.createJob({ ...base, maxAttempts: 0 }))).toBe('maxAttempts');
      expect(await fieldOf(store.createJob({ ...base, tenantId: foreign.tenant.id }))).toBe('modelId');
      expect(await fieldOf(store.countJobs({ statuses: [] }))).toBe('statuses');
      expect(await fieldOf(store.listJobs(model.id, { status: 'done' as 'queued' }))).toBe('status');
      const job = await store.createJob(base);
      await store.claimJob(job.id, 'w');
      expect(await fieldOf(store.claimJob(job.id, ''))).toBe('worker');
      expect(await fieldOf(store.heartbeatJob(job.id, 'w', [1] as never))).toBe('progress');
      expect(await fieldOf(store.appendJobEvent(job.id, 'bad type', {}))).toBe('type');
      expect(await fieldOf(store.finishJob(job.id, 'w', { status: 'failed', resultVersionId: ghost }))).toBe(
        'resultVersionId',
      );
      expect(await fieldOf(store.finishJob(job.id, 'w', { status: 'queued' as 'failed' }))).toBe('status');
      await expect(
        store.finishJob(job.id, 'w', { status: 'succeeded', resultVersionId: ghost }),
      ).rejects.toBeInstanceOf(NotFoundError);
      expect((await store.getJob(job.id)).status).toBe('running');
      await expect(store.createJob({ ...base, modelId: ghost })).rejects.toBeInstanceOf(NotFoundError);
      // Thunks: a call is only started when its rejection is awaited.
      for (const call of [
        () => store.getJob(ghost),
        () => store.claimJob(ghost, 'w'),
        () => store.heartbeatJob(ghost, 'w'),
        () => store.finishJob(ghost, 'w', { status: 'failed' }),
        () => store.requestJobCancel(ghost),
        () => store.appendJobEvent(ghost, 'log', {}),
        () => store.listJobEvents(ghost),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(NotFoundError);
      }
    });

    it('finds the version a job committed, and a job can never commit twice', async () => {
      const { store } = h();
      const { tenant, model } = await freshModel(store);
      const job = await store.createJob({ tenantId: tenant.id, modelId: model.id, kind: 'train', spec: {} });
      expect(await store.findVersionByJob(model.id, job.id)).toBeUndefined();
      const v1 = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 1)],
        lineage: { extra: { jobId: job.id, trainer: 'sgd' } },
      });
      expect(await store.findVersionByJob(model.id, job.id)).toEqual(v1.version);
      expect(v1.version.lineage.extra.jobId).toBe(job.id);
      const second = await store
        .commitVersion({
          modelId: model.id,
          parentId: v1.version.id,
          blocks: [smallBlock('a', 2)],
          lineage: { extra: { jobId: job.id } },
        })
        .catch((e: unknown) => e);
      expect(second).toBeInstanceOf(AlreadyExistsError);
      expect(second).toMatchObject({ code: 'already_exists', key: job.id });
      expect((await store.getModel(model.id)).headVersionId).toBe(v1.version.id);
      // Not found through another model.
      const other = await freshModel(store);
      expect(await store.findVersionByJob(other.model.id, job.id)).toBeUndefined();

      // A train-adapter job commits on the adapter's line; the base model finds it too.
      const adapter = await store.createAdapter({ modelId: model.id, name: 'legal', targetLayer: 'ffn' });
      const adapterJob = await store.createJob({
        tenantId: tenant.id,
        modelId: model.id,
        kind: 'train-adapter',
        spec: {},
      });
      const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
      const av = await store.commitAdapterVersion({
        adapterId: adapter.id,
        parentId: null,
        rank: 2,
        alpha: 4,
        dIn: 4,
        dOut: 3,
        a: ramp(8),
        b: ramp(6),
        retrievalKey: ramp(4),
        lineage: { extra: { jobId: adapterJob.id } },
      });
      expect((await store.findVersionByJob(model.id, adapterJob.id))?.id).toBe(av.version.id);
      expect((await store.findVersionByJob(adapter.id, adapterJob.id))?.id).toBe(av.version.id);
    });

    it('two racing commits of one job on different lines: exactly one wins, the other is AlreadyExistsError', async () => {
      const { store } = h();
      const other = await h().openAnother();
      try {
        const a = await freshModel(store);
        const b = await freshModel(store);
        const job = await store.createJob({
          tenantId: a.tenant.id,
          modelId: a.model.id,
          kind: 'train',
          spec: {},
        });
        // Several COPY rounds each, so both pass the up-front check and the unique index decides (PostgreSQL).
        const write = (s: typeof store, modelId: string, seed: number) =>
          s.commitVersion({
            modelId,
            parentId: null,
            blocks: tableBlocks({ table: `j${seed}`, endRow: 512, rowsPerBlock: 64, rowWidth: 256, seed }),
            lineage: { extra: { jobId: job.id } },
          });
        const results = await Promise.allSettled([write(store, a.model.id, 1), write(other, b.model.id, 2)]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(lost.reason).toBeInstanceOf(AlreadyExistsError);
        const heads = [
          (await store.getModel(a.model.id)).headVersionId,
          (await store.getModel(b.model.id)).headVersionId,
        ];
        expect(heads.filter((id) => id !== null)).toHaveLength(1);
      } finally {
        await other.close();
      }
    });
  });
}
