import type { ManifestEntry } from '@peer/adapter-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobHarness, startJobQueue, waitFor } from '../../test/support/job-harness.js';
import { createModel, type DriverStore, servingDrivers } from '../../test/support/serving-fixtures.js';
import { createTestApp, smallRecords, type TestApp } from '../../test/support/test-app.js';

interface JobBody {
  id: string;
  status: string;
  attempts: number;
  resultVersionId: string | null;
  progress: { step: number; steps: number; loss: number | null };
  error: { code: string } | null;
}

/** Parses an SSE body into its events. */
function sseEvents(text: string): { id?: string; event: string; data: unknown }[] {
  return text
    .split('\n\n')
    .filter((chunk) => chunk.includes('data:'))
    .map((chunk) => {
      const field = (name: string) =>
        chunk
          .split('\n')
          .find((l) => l.startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim();
      const id = field('id');
      return {
        ...(id ? { id } : {}),
        event: field('event') ?? 'message',
        data: JSON.parse(field('data') ?? 'null'),
      };
    });
}

/** The parts of the version-metrics contract these tests read. */
interface VersionMetrics {
  jobId: string;
  stream: string;
  steps: number;
  meanLoss: number;
  finalLoss: number;
  elapsedMs: number;
  experts: number[];
  rowsAdded: Record<string, [number, number]>;
  accuracy: { a: number; b: number };
  usage: { 'blocks.0.peer': { rows: number; cols: number; counts: number[] } };
  continual: { streams: string[]; R: number[][]; acc: number; bwt: number; forgetting: number };
}

const hashes = (entries: ManifestEntry[]) => new Map(entries.map((e) => [e.name, e.hash]));

describe.each(servingDrivers())('training jobs over HTTP (%s)', (_driver, open) => {
  let db: DriverStore;
  let t: TestApp;
  let jobs: JobHarness;
  let modelId: string;

  const job = async (id: string, key = t.keys.read) => {
    const res = await t.call('GET', `/v1/jobs/${id}`, { key });
    return { status: res.status, body: (await res.json()) as JobBody };
  };
  const finished = (id: string) =>
    waitFor(
      () => job(id),
      (r) => ['succeeded', 'failed', 'cancelled'].includes(r.body.status),
    );
  const post = (json: unknown, key = t.keys.write, model = modelId) =>
    t.call('POST', `/v1/models/${model}/jobs`, { key, json });
  const ingest = async (stream: string, n: number, seed: number) => {
    const res = await t.call('POST', `/v1/models/${modelId}/streams/${stream}/records`, {
      key: t.keys.write,
      body: smallRecords(n, seed),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(res.status).toBe(202);
  };

  beforeAll(async () => {
    db = await open();
    t = await createTestApp({ PEER_MAX_QUEUED_JOBS: '3' }, { store: db.store });
    jobs = await startJobQueue(t, db.store);
    ({ id: modelId } = await createModel(t, 'jobs'));
    await ingest('a', 300, 1);
    await ingest('b', 300, 7);
  }, 60_000);
  afterAll(async () => {
    await jobs?.stop();
    await t?.services.serving.close();
    await t?.close();
    await db?.cleanup();
  }, 60_000);

  it('trains a stream into version 2, then grows on a second stream writing only the new blocks', async () => {
    const res = await post({
      stream: 'a',
      iterations: 30,
      batchSize: 32,
      learningRate: 0.01,
      promote: 'staging',
    });
    expect(res.status).toBe(202);
    const queued = (await res.json()) as JobBody;
    expect(queued).toMatchObject({
      status: 'queued',
      attempts: 0,
      progress: { step: 0, steps: 30, loss: null },
    });
    expect(res.headers.get('location')).toBe(`/v1/jobs/${queued.id}`);

    const done = await finished(queued.id);
    expect(done.body).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    const model = await db.store.getModel(modelId);
    const v1 = (await db.store.listVersions(modelId))[0];
    const v2 = await db.store.getVersion(done.body.resultVersionId as string);
    expect(model.headVersionId).toBe(v2.id);
    expect(v2.parentId).toBe(v1?.id);
    expect(v2.lineage.extra.jobId).toBe(queued.id);
    expect((await db.store.getAlias(modelId, 'staging')).versionId).toBe(v2.id);
    const m = v2.metrics as unknown as VersionMetrics;
    expect(m).toMatchObject({ jobId: queued.id, stream: 'a', steps: 30, experts: [16], rowsAdded: {} });
    expect(m.accuracy.a).toBeGreaterThan(0.6);
    expect(m.usage['blocks.0.peer']).toMatchObject({ rows: 4, cols: 4 });
    expect(m.usage['blocks.0.peer'].counts).toHaveLength(16);
    expect(m.continual).toEqual({
      streams: ['a'],
      R: [[m.accuracy.a]],
      acc: m.accuracy.a,
      bwt: 0,
      forgetting: 0,
    });
    expect(Number.isFinite(m.meanLoss) && Number.isFinite(m.finalLoss) && m.elapsedMs > 0).toBe(true);
    // The acknowledged batches it trained on are now consumed.
    const stream = await db.store.findStream(modelId, 'a');
    const batches = await db.store.listBatches(stream?.id as string);
    expect(batches.map((b) => b.status)).toEqual(['consumed']);

    // The event stream replays progress ... metrics, done in order and ends.
    const sse = await t.call('GET', `/v1/jobs/${queued.id}/events`, { key: t.keys.read });
    expect(sse.headers.get('content-type')).toContain('text/event-stream');
    const events = sseEvents(await sse.text());
    const types = events.map((e) => e.event);
    expect(types.at(-1)).toBe('done');
    expect(types.at(-2)).toBe('metrics');
    expect(types.filter((x) => x === 'progress').length).toBeGreaterThanOrEqual(10);
    expect(types.slice(0, -2).every((x) => x === 'progress')).toBe(true);
    expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));
    const steps = events.filter((e) => e.event === 'progress').map((e) => (e.data as { step: number }).step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(events.at(-1)?.data).toMatchObject({ versionId: v2.id });
    // Resuming after the last progress event gives only the tail.
    const lastProgress = events.filter((e) => e.event === 'progress').at(-1)?.id as string;
    const resumed = sseEvents(
      await (
        await t.call('GET', `/v1/jobs/${queued.id}/events`, {
          key: t.keys.read,
          headers: { 'last-event-id': lastProgress },
        })
      ).text(),
    );
    expect(resumed.map((e) => e.event)).toEqual(['metrics', 'done']);

    // Second stream: the pool grows by 4 sub-key rows; old expert rows are inherited byte for byte.
    const second = (await (await post({ stream: 'b', iterations: 30, batchSize: 32 })).json()) as JobBody;
    const done2 = await finished(second.id);
    expect(done2.body.status).toBe('succeeded');
    const v3 = await db.store.getVersion(done2.body.resultVersionId as string);
    expect(v3.parentId).toBe(v2.id);
    const m3 = v3.metrics as unknown as VersionMetrics;
    expect(m3.rowsAdded).toEqual({ 'blocks.0.peer': [4, 8] });
    expect(m3.experts).toEqual([32]);
    expect(m3.usage['blocks.0.peer'].counts).toHaveLength(32);
    expect(m3.continual.streams).toEqual(['a', 'b']);
    expect(m3.continual.R).toEqual([[m.accuracy.a], [m3.accuracy.a, m3.accuracy.b]]);
    expect(m3.continual.bwt).toBeCloseTo(m3.accuracy.a - m.accuracy.a, 10);
    const before = hashes(await db.store.getManifest(v2.id));
    const after = hashes(await db.store.getManifest(v3.id));
    for (const name of [
      'blocks.0.peer.experts.u.rows.000000-000004',
      'blocks.0.peer.experts.v.rows.000000-000004',
    ]) {
      expect(after.get(name)).toBe(before.get(name));
    }
    expect(after.get('input.weight')).toBe(before.get('input.weight'));
    expect(after.has('blocks.0.peer.experts.u.rows.000004-000008')).toBe(true);
    const diff = await db.store.diffVersions(v2.id, v3.id);
    expect(diff.removed).toEqual([]);
    expect(diff.changed.every((c) => !c.to.name.startsWith('blocks.0.peer.experts'))).toBe(true);

    // Listing: newest first.
    const list = (await (await t.call('GET', `/v1/models/${modelId}/jobs`, { key: t.keys.read })).json()) as {
      jobs: JobBody[];
    };
    expect(list.jobs.map((j) => j.id)).toEqual([second.id, queued.id]);
  });

  it('cancels a running job: it ends cancelled and commits nothing', async () => {
    const versionsBefore = (await db.store.listVersions(modelId)).length;
    // 5,000 iterations report progress every 100 steps; the job is cancelled long before it ends.
    const res = await post({ stream: 'a', iterations: 5_000, batchSize: 32 });
    const created = (await res.json()) as JobBody;
    await waitFor(
      () => job(created.id),
      (r) => r.body.status === 'running' && r.body.progress.step > 0,
    );
    const cancel = await t.call('DELETE', `/v1/jobs/${created.id}`, { key: t.keys.write });
    expect(cancel.status).toBe(202);
    const done = await finished(created.id);
    expect(done.body.status).toBe('cancelled');
    expect(done.body.resultVersionId).toBeNull();
    expect(await db.store.findVersionByJob(modelId, created.id)).toBeUndefined();
    expect((await db.store.listVersions(modelId)).length).toBe(versionsBefore);
    const events = sseEvents(
      await (await t.call('GET', `/v1/jobs/${created.id}/events`, { key: t.keys.read })).text(),
    );
    expect(events.at(-1)?.event).toBe('cancelled');
  });

  it('keeps the API event loop responsive while a job trains (training runs in a worker thread)', async () => {
    const created = (await (await post({ stream: 'b', iterations: 3_000, batchSize: 64 })).json()) as JobBody;
    await waitFor(
      () => job(created.id),
      (r) => r.body.status === 'running' && r.body.progress.step > 0,
    );
    let maxDrift = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxDrift = Math.max(maxDrift, now - last - 10);
      last = now;
    }, 10);
    let maxHealth = 0;
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      const started = performance.now();
      const res = await t.call('GET', '/healthz');
      maxHealth = Math.max(maxHealth, performance.now() - started);
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    clearInterval(timer);
    expect((await job(created.id)).body.status).toBe('running');
    expect(maxDrift).toBeLessThan(100);
    expect(maxHealth).toBeLessThan(100);
    await t.call('DELETE', `/v1/jobs/${created.id}`, { key: t.keys.write });
    expect((await finished(created.id)).body.status).toBe('cancelled');
  });

  it('trains a LoRA adapter as a new version of an adapter line, leaving the model head alone', async () => {
    const head = (await db.store.getModel(modelId)).headVersionId;
    const run = async () => {
      const res = await post({
        stream: 'b',
        iterations: 20,
        batchSize: 32,
        adapter: { name: 'fix-b', rank: 2 },
      });
      expect(res.status).toBe(202);
      const created = (await res.json()) as JobBody & { kind: string };
      expect(created.kind).toBe('train-adapter');
      const done = await finished(created.id);
      expect(done.body.status).toBe('succeeded');
      return db.store.loadAdapterVersion(done.body.resultVersionId as string);
    };
    const first = await run();
    expect(first).toMatchObject({ name: 'fix-b', targetLayer: 'input', rank: 2, alpha: 4, dIn: 8, dOut: 16 });
    expect(first.b.some((v) => v !== 0)).toBe(true);
    expect(first.retrievalKey.length).toBeGreaterThan(0);
    expect(first.version.lineage.extra).toMatchObject({ baseVersionId: head });
    expect((first.version.metrics as { accuracy: Record<string, number> }).accuracy.b).toBeGreaterThan(0.5);
    const second = await run();
    expect(second.version.parentId).toBe(first.version.id);
    expect((await db.store.getModel(modelId)).headVersionId).toBe(head);
    expect((await db.store.listAdapterKeys(modelId)).map((k) => k.name)).toEqual(['fix-b']);
  });

  it('rejects bad specs with 422 naming the field, unknown streams and other tenants with 404', async () => {
    const field = async (json: unknown) => {
      const r = await post(json);
      expect(r.status).toBe(422);
      return ((await r.json()) as { error: { field: string } }).error.field;
    };
    expect(await field({ stream: 'a', iterations: 0 })).toBe('iterations');
    expect(await field({ stream: 'a', batchSize: 5000 })).toBe('batchSize');
    expect(await field({ stream: 'a', adapter: { name: 'x', rank: 65 } })).toBe('adapter.rank');
    expect(await field({ stream: 'a', rows: 4096 })).toBe('rows'); // more than capacityRows allows
    expect(
      await field({ stream: 'a', strategy: { plugins: ['replay'], settings: { replay: { capacity: -1 } } } }),
    ).toBe('strategy.settings.replay.capacity');
    // Image shifts of 3 × 3 pixels cannot be the model's 8 inputs: refused now, not at the first replayed batch.
    expect(
      await field({
        stream: 'a',
        strategy: {
          plugins: ['replay'],
          settings: { replay: { augment: { height: 3, width: 3, maxShift: 1 } } },
        },
      }),
    ).toBe('strategy.settings.replay.augment');
    expect(await field({ stream: 'a', colour: 'red' })).toBe('colour');
    expect((await post({ stream: 'nope' })).status).toBe(404);
    expect((await post({ stream: 'a' }, t.keys.otherTenant)).status).toBe(404);
    expect((await post({ stream: 'a' }, t.keys.read)).status).toBe(403);
    const list = (await (await t.call('GET', `/v1/models/${modelId}/jobs`, { key: t.keys.read })).json()) as {
      jobs: JobBody[];
    };
    const someJob = list.jobs[0]?.id as string;
    expect((await job(someJob, t.keys.otherTenant)).status).toBe(404);
    expect((await t.call('DELETE', `/v1/jobs/${someJob}`, { key: t.keys.otherTenant })).status).toBe(404);
    expect((await t.call('GET', `/v1/jobs/${someJob}/events`, { key: t.keys.otherTenant })).status).toBe(404);
  });
});

describe('training queue limits', () => {
  let t: TestApp;
  let modelId: string;
  beforeAll(async () => {
    t = await createTestApp({ PEER_MAX_QUEUED_JOBS: '2' });
    // No worker: jobs stay queued, so the queue fills.
    ({ id: modelId } = await createModel(t, 'full'));
    const res = await t.call('POST', `/v1/models/${modelId}/streams/a/records`, {
      key: t.keys.write,
      body: smallRecords(20),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(res.status).toBe(202);
  }, 60_000);
  afterAll(async () => {
    await t?.services.serving.close();
    await t?.close();
  });

  it('answers 429 with Retry-After once queued + running jobs reach PEER_MAX_QUEUED_JOBS', async () => {
    const post = () =>
      t.call('POST', `/v1/models/${modelId}/jobs`, { key: t.keys.write, json: { stream: 'a' } });
    expect((await post()).status).toBe(202);
    const second = await post();
    expect(second.status).toBe(202);
    const full = await post();
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('30');
    const body = (await full.json()) as { error: { code: string; value: number } };
    expect(body.error).toMatchObject({ code: 'queue_full', value: 2 });
    // Cancelling a queued job frees its place at once.
    const queued = (await second.json()) as JobBody;
    const cancelled = await t.call('DELETE', `/v1/jobs/${queued.id}`, { key: t.keys.write });
    expect(((await cancelled.json()) as JobBody).status).toBe('cancelled');
    expect((await post()).status).toBe(202);
  });

  it('documents the job routes in the OpenAPI document', async () => {
    const doc = (await (await t.call('GET', '/v1/openapi.json')).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/models/{id}/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/events']),
    );
    expect(Object.keys(doc.paths['/v1/jobs/{id}'] ?? {})).toEqual(expect.arrayContaining(['get', 'delete']));
  });

  it('refuses a stream too short to hold out an evaluation set', async () => {
    await t.call('POST', `/v1/models/${modelId}/streams/tiny/records`, {
      key: t.keys.write,
      body: smallRecords(5),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    const res = await t.call('POST', `/v1/models/${modelId}/jobs`, {
      key: t.keys.write,
      json: { stream: 'tiny' },
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('stream');
  });
});
