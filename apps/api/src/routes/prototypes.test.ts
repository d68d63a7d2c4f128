import { PostgresContinualStateStore } from '@peer/adapter-store';
import {
  type PeerClassifier,
  PROTOTYPE_STATE_METHOD,
  PrototypeClassifier,
  restorePrototypes,
  type SavedPrototypes,
} from '@peer/core';
import { tf } from '@peer/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobHarness, startJobQueue, waitFor } from '../../test/support/job-harness.js';
import { type DriverStore, loadLocal, servingDrivers } from '../../test/support/serving-fixtures.js';
import { createTestApp, SMALL_CLASSIFIER, type TestApp } from '../../test/support/test-app.js';
import { isHeldOut } from '../jobs/stream-data.js';

/** `n` records whose labels cycle through `classes`; class c has a bump at x[c] under heavy noise. */
function records(n: number, seed: number, classes: readonly number[]): { x: number[]; y: number }[] {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  return Array.from({ length: n }, (_, i) => {
    const y = classes[i % classes.length] ?? 0;
    return { x: Array.from({ length: 8 }, (_, j) => Number((3 * rand() + (j === y ? 2 : 0)).toFixed(4))), y };
  });
}

const STREAMS = { a: records(300, 1, [0, 1]), b: records(300, 7, [2, 3]) };
const WITH_PROTOTYPES = { plugins: ['freeze-and-grow', 'replay', 'class-prototypes'] };

interface JobBody {
  id: string;
  status: string;
  resultVersionId: string | null;
  error: { code: string } | null;
}

interface PredictBody {
  prototypes: { mode: string; space: string; weight: number; centroids: number } | null;
  outputs: { class: number; probabilities: number[] }[];
}

describe.each(servingDrivers())('class prototypes as a job strategy and at predict (%s)', (_driver, open) => {
  let db: DriverStore;
  let t: TestApp;
  let jobs: JobHarness;
  let modelId: string;
  const local: PeerClassifier[] = [];

  const train = async (stream: keyof typeof STREAMS, strategy?: unknown, model = modelId) => {
    const res = await t.call('POST', `/v1/models/${model}/jobs`, {
      key: t.keys.write,
      json: {
        stream,
        iterations: 60,
        batchSize: 32,
        learningRate: 0.01,
        rows: 2,
        ...(strategy ? { strategy } : {}),
      },
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as JobBody;
    const done = await waitFor(
      async () => (await (await t.call('GET', `/v1/jobs/${id}`, { key: t.keys.read })).json()) as JobBody,
      (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status),
    );
    expect(done).toMatchObject({ status: 'succeeded', error: null });
    return { jobId: id, version: await db.store.getVersion(done.resultVersionId as string) };
  };
  const saved = async (jobId: string, model = modelId): Promise<SavedPrototypes | undefined> => {
    const state = await PostgresContinualStateStore.existingForModel(db.store, model);
    const s = await state?.loadRegularization(`job:${jobId}`, PROTOTYPE_STATE_METHOD);
    return s && restorePrototypes(s);
  };
  const predict = async (json: unknown) => {
    const res = await t.call('POST', `/v1/models/${modelId}/predict`, { key: t.keys.read, json });
    expect(res.status).toBe(200);
    return (await res.json()) as PredictBody;
  };

  /**
   * A 4-class model with both streams ingested through the API, except those in `storeOnly`: written
   * straight into the store, as another app of the store might, without a replay reservoir.
   */
  const modelWithStreams = async (name: string, storeOnly: readonly string[] = []): Promise<string> => {
    const res = await t.call('POST', '/v1/models', {
      key: t.keys.write,
      json: { name, kind: 'classifier', config: { ...SMALL_CLASSIFIER, classes: 4 }, seed: 3 },
    });
    const id = ((await res.json()) as { id: string }).id;
    for (const [stream, rows] of Object.entries(STREAMS)) {
      if (storeOnly.includes(stream)) {
        const created = await db.store.createStream({ modelId: id, name: stream });
        await db.store.recordBatch({ streamId: created.id, idempotencyKey: 'all', records: rows });
        continue;
      }
      const ingest = await t.call('POST', `/v1/models/${id}/streams/${stream}/records`, {
        key: t.keys.write,
        body: `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`,
        headers: { 'content-type': 'application/x-ndjson' },
      });
      expect(ingest.status).toBe(202);
    }
    return id;
  };

  beforeAll(async () => {
    db = await open();
    t = await createTestApp({}, { store: db.store });
    jobs = await startJobQueue(t, db.store);
    modelId = await modelWithStreams('protos');
  }, 60_000);
  afterAll(async () => {
    for (const m of local) m.dispose();
    await jobs?.stop();
    await t?.services.serving.close();
    await t?.close();
    await db?.cleanup();
  }, 60_000);

  it('switched on mid-lineage, keeps centroids of every stream, measures and serves through them', async () => {
    // Stream a without prototypes, then b with them: the job backfills a's centroids from its replay sample.
    const first = await train('a');
    expect(await saved(first.jobId)).toBeUndefined();
    const second = await train('b', WITH_PROTOTYPES);
    const protos = await saved(second.jobId);
    expect(protos?.settings).toEqual({ mode: 'product', space: 'projection', weight: 20 });
    expect(protos?.streamClasses).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(protos?.prototypes.dim).toBe(SMALL_CLASSIFIER.dModel);
    // 16 centroids (the default) for each of the 4 classes: each has far more than 16 examples.
    expect(protos?.prototypes.size).toBe(64);
    const strategies = second.version.metrics.strategies as { name: string; settings: { space?: string } }[];
    expect(strategies.map((s) => s.name)).toEqual(['freeze-and-grow', 'replay', 'class-prototypes']);

    // Held-out accuracy was measured through the prototypes: recomputed here on the held-out rows.
    const model = await loadLocal(db.store, second.version.id);
    local.push(model);
    const classifier = new PrototypeClassifier(model, protos?.prototypes as never, {
      ...(protos?.settings as SavedPrototypes['settings']),
      streamClasses: protos?.streamClasses ?? [],
    });
    const accuracy = second.version.metrics.accuracy as Record<string, number>;
    for (const [name, rows] of Object.entries(STREAMS)) {
      const heldOut = rows.filter((_, offset) => isHeldOut(offset));
      const x = tf.tensor2d(
        heldOut.flatMap((r) => r.x),
        [heldOut.length, 8],
      );
      const { classes } = await classifier.predictAsync(x);
      x.dispose();
      const correct = heldOut.filter((r, i) => classes[i] === r.y).length;
      expect(accuracy[name]).toBeCloseTo(correct / heldOut.length, 10);
    }

    // Predict applies them by default, and reports it; `prototypes: false` serves the head alone.
    const inputs = STREAMS.a.slice(0, 6).map((r) => r.x);
    const x = tf.tensor2d(inputs.flat(), [6, 8]);
    const expected = await classifier.predictAsync(x);
    const head = await model.predictAsync(x);
    x.dispose();
    const withPrototypes = await predict({ inputs });
    expect(withPrototypes.prototypes).toEqual({
      mode: 'product',
      space: 'projection',
      weight: 20,
      centroids: 64,
    });
    expect(withPrototypes.outputs.map((o) => o.class)).toEqual([...expected.classes]);
    withPrototypes.outputs.forEach((o, r) => {
      for (const [c, p] of o.probabilities.entries())
        expect(p).toBeCloseTo(expected.probabilities[r * 4 + c] ?? 0, 5);
    });
    const headOnly = await predict({ inputs, prototypes: false });
    expect(headOnly.prototypes).toBeNull();
    expect(headOnly.outputs.map((o) => o.class)).toEqual([...head.classes]);
    expect(headOnly.outputs.flatMap((o) => o.probabilities)).not.toEqual(
      withPrototypes.outputs.flatMap((o) => o.probabilities),
    );
    // The version before prototypes serves without them.
    expect((await predict({ inputs, version: first.version.id })).prototypes).toBeNull();

    // A later job resumes from the saved centroids and adds its stream's.
    const third = await train('a', WITH_PROTOTYPES);
    const resumed = await saved(third.jobId);
    expect(resumed?.streamClasses).toEqual([
      [0, 1],
      [2, 3],
      [0, 1],
    ]);
    expect(resumed?.prototypes.size).toBe(96);
  }, 180_000);

  it('backfills a stream trained without replay from its training rows, never its held-out ones', async () => {
    const id = await modelWithStreams('protos-no-replay', ['a']);
    await train('a', { plugins: ['freeze-and-grow'] }, id);
    const second = await train('b', { plugins: ['freeze-and-grow', 'class-prototypes'] }, id);
    const protos = await saved(second.jobId, id);
    expect(protos?.streamClasses).toEqual([
      [0, 1],
      [2, 3],
    ]);
    // 16 centroids for each class of a: its ~135 training rows per class, not its ~15 held-out ones.
    const heldOutPerClass = [0, 1].map((c) => STREAMS.a.filter((r, o) => isHeldOut(o) && r.y === c).length);
    expect(Math.min(...heldOutPerClass)).toBeLessThan(16);
    expect(protos?.prototypes.size).toBe(64);
  }, 120_000);

  it('rejects strategies that cannot work with 422 naming the field', async () => {
    const field = async (strategy: unknown, model = modelId) => {
      const res = await t.call('POST', `/v1/models/${model}/jobs`, {
        key: t.keys.write,
        json: { stream: 'a', strategy },
      });
      expect(res.status).toBe(422);
      return ((await res.json()) as { error: { field: string } }).error.field;
    };
    // Projection-space centroids need the projection frozen by freeze-and-grow, listed first.
    expect(
      await field({
        plugins: ['replay', 'class-prototypes'],
        settings: { 'class-prototypes': { space: 'projection' } },
      }),
    ).toBe('strategy.settings.class-prototypes.space');
    expect(
      await field({
        plugins: ['class-prototypes', 'freeze-and-grow'],
        settings: { 'class-prototypes': { space: 'projection' } },
      }),
    ).toBe('strategy.settings.class-prototypes.space');
    expect(
      await field({ plugins: ['class-prototypes'], settings: { 'class-prototypes': { perClass: 0 } } }),
    ).toBe('strategy.settings.class-prototypes.perClass');
    // One head per task: nothing for prototypes to correct.
    const res = await t.call('POST', '/v1/models', {
      key: t.keys.write,
      json: { name: 'tasks', kind: 'classifier', config: { ...SMALL_CLASSIFIER, taskHeads: 2 } },
    });
    const taskModel = ((await res.json()) as { id: string }).id;
    const ingest = await t.call('POST', `/v1/models/${taskModel}/streams/a/records`, {
      key: t.keys.write,
      body: `${STREAMS.a.map((r) => JSON.stringify({ ...r, y: r.y % 3, task: 0 })).join('\n')}\n`,
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(ingest.status).toBe(202);
    expect(await field({ plugins: ['class-prototypes'] }, taskModel)).toBe('strategy.plugins');
  });
});
