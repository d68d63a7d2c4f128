import {
  batchOf,
  type ContinualStateStore,
  type ContinualStream,
  InMemoryContinualStateStore,
  type RegularizationState,
  ReplayPlugin,
  ReservoirBuffer,
  type StreamContext,
} from '@peer/core';
import type { TensorBlock } from '@peer/core/serialization';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnv } from '../src/env.js';
import {
  type AdapterStore,
  AlreadyExistsError,
  openStore,
  PostgresContinualStateStore,
} from '../src/index.js';
import { createTestDatabase } from './helpers/pg-database.js';

interface Harness {
  readonly store: AdapterStore;
  close(): Promise<void>;
}

/** The same checks on every driver: each is compared with what the core's in-memory store returns. */
function runContinualStateSuite(title: string, open: () => Promise<Harness>): void {
  describe(title, () => {
    let harness: Harness;
    let modelId: string;
    let state: PostgresContinualStateStore;

    beforeAll(async () => {
      harness = await open();
      const tenant = await harness.store.createTenant({ name: 'acme' });
      modelId = (await harness.store.createModel({ tenantId: tenant.id, name: 'mnist' })).id;
      state = await PostgresContinualStateStore.forModel(harness.store, modelId);
    });
    afterAll(async () => harness?.close());

    it('keeps state on a companion line, never on the model itself', async () => {
      const again = await PostgresContinualStateStore.forModel(harness.store, modelId);
      expect(again.stateModelId).toBe(state.stateModelId);
      expect((await harness.store.getModel(state.stateModelId)).name).toBe('mnist.continual-state');
      await state.saveRegularization('run/after-line', 'ewc', regState(1));
      expect((await harness.store.getModel(modelId)).headVersionId).toBeNull();
    });

    it('finds an existing companion line for readers without ever creating one', async () => {
      const tenant = await harness.store.createTenant({ name: 'reader-tenant' });
      const fresh = (await harness.store.createModel({ tenantId: tenant.id, name: 'fresh' })).id;
      expect(await PostgresContinualStateStore.existingForModel(harness.store, fresh)).toBeUndefined();
      expect(await harness.store.findModel(tenant.id, 'fresh.continual-state')).toBeUndefined();
      const found = await PostgresContinualStateStore.existingForModel(harness.store, modelId);
      expect(found?.stateModelId).toBe(state.stateModelId);
      expect(await found?.loadRegularization('run/after-line', 'ewc')).toEqual(
        await state.loadRegularization('run/after-line', 'ewc'),
      );
    });

    it('loads missing keys as the in-memory store does (undefined)', async () => {
      const memory = new InMemoryContinualStateStore();
      expect(await state.loadReplay('no-such-stream')).toBe(await memory.loadReplay('no-such-stream'));
      expect(await state.loadRegularization('no/such-key', 'ewc')).toBe(
        await memory.loadRegularization('no/such-key', 'ewc'),
      );
      await state.saveRegularization('run/after-missing', 'ewc', regState(2));
      expect(await state.loadRegularization('run/after-missing', 'l2-sp')).toBeUndefined();
    });

    it('round-trips replay snapshots like the in-memory store, newest save winning', async () => {
      const memory = new InMemoryContinualStateStore();
      const balanced = filledBuffer({ capacity: 3, classBalanced: true, seed: 5 }, 40);
      const plain = filledBuffer({ capacity: 5, classBalanced: false, seed: 9 }, 17);
      for (const s of [memory, state] as ContinualStateStore[]) {
        await s.saveReplay('split/task 0', balanced.snapshot());
        await s.saveReplay('split/task_0', plain.snapshot());
      }
      expect(await state.loadReplay('split/task 0')).toEqual(await memory.loadReplay('split/task 0'));
      expect(await state.loadReplay('split/task_0')).toEqual(await memory.loadReplay('split/task_0'));
      expect(await state.loadReplay('split/task 0')).toEqual(balanced.snapshot());

      // A, B, A: an append-only log must load the newest save, not the first nor a deduplicated one.
      const a = balanced.snapshot();
      balanced.offer({ x: [0.5, -0.25], y: 1, task: 0 });
      const b = balanced.snapshot();
      expect(b).not.toEqual(a);
      await state.saveReplay('split/task 0', b);
      expect(await state.loadReplay('split/task 0')).toEqual(b);
      await state.saveReplay('split/task 0', a);
      expect(await state.loadReplay('split/task 0')).toEqual(a);
    });

    it('round-trips regularization anchors, Fisher blocks and meta like the in-memory store', async () => {
      const memory = new InMemoryContinualStateStore();
      const saved = regState(3);
      await memory.saveRegularization('run-1/after-task 0', 'ewc', saved);
      await state.saveRegularization('run-1/after-task 0', 'ewc', saved);
      await state.saveRegularization('run-1/after-task 0', 'l2-sp', { ...saved, fisher: [] });
      const loaded = await state.loadRegularization('run-1/after-task 0', 'ewc');
      expect(plainState(loaded)).toEqual(
        plainState(await memory.loadRegularization('run-1/after-task 0', 'ewc')),
      );
      expect(plainState(loaded)).toEqual(plainState(saved));
      expect((await state.loadRegularization('run-1/after-task 0', 'l2-sp'))?.fisher).toEqual([]);
      // Persisted, not cached: a second instance on the same database sees it.
      const other = await PostgresContinualStateStore.forModel(harness.store, modelId);
      expect(plainState(await other.loadRegularization('run-1/after-task 0', 'ewc'))).toEqual(
        plainState(saved),
      );
    });

    it('keeps a (version key, method) state write-once, like store versions', async () => {
      await state.saveRegularization('run/after-once', 'ewc', regState(4));
      await expect(state.saveRegularization('run/after-once', 'ewc', regState(5))).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
    });

    it('creates one key version per key under concurrent saves', async () => {
      const keys = ['c/0', 'c/1', 'c/2', 'c/3'];
      await Promise.all(keys.map((k, i) => state.saveRegularization(k, 'ewc', regState(10 + i))));
      for (const [i, k] of keys.entries()) {
        expect(plainState(await state.loadRegularization(k, 'ewc'))).toEqual(plainState(regState(10 + i)));
      }
    });

    it('resumes a ReplayPlugin buffer saved through the store exactly', async () => {
      const streams = [stream('s0', 0, 11), stream('s1', 1, 12)];
      const options = { capacity: 4, classBalanced: true, batchSize: 6, seed: 3 };
      const original = new ReplayPlugin(options);
      await original.afterStream(context(streams, 0, state));

      const resumed = new ReplayPlugin(options);
      const reopened = await PostgresContinualStateStore.forModel(harness.store, modelId);
      await resumed.beforeStream(context(streams, 1, reopened));
      expect(original.size).toBeGreaterThan(0);
      expect(resumed.size).toBe(original.size);
      const s1 = streams[1] as ContinualStream;
      for (let step = 0; step < 3; step++) {
        const batch = batchOf(s1.train, 1, [step, step + 1, step + 2]);
        const ctx = context(streams, 1, reopened);
        expect(resumed.batchTransform(batch, ctx)).toEqual(original.batchTransform(batch, ctx));
      }
      const memory = new InMemoryContinualStateStore();
      await original.afterStream(context(streams, 1, memory));
      await resumed.afterStream(context(streams, 1, reopened));
      expect(await reopened.loadReplay('s1')).toEqual(await memory.loadReplay('s1'));
    });
  });
}

function filledBuffer(options: { capacity: number; classBalanced: boolean; seed: number }, n: number) {
  const buffer = new ReservoirBuffer(options);
  for (let i = 0; i < n; i++) buffer.offer({ x: [i / 7, -i * 1e-7, 3.25], y: i % 3, task: i % 2 });
  return buffer;
}

function block(name: string, values: number[]): TensorBlock {
  return {
    name,
    dtype: 'float32',
    shape: [values.length],
    bytes: new Uint8Array(new Float32Array(values).buffer),
  };
}

/** Anchors and Fisher share names (as EWC's do) and one name is outside the store's block alphabet. */
function regState(seed: number): RegularizationState {
  return {
    anchors: [block('w.b', [seed, 2]), block('head 0/w', [0.1 * seed, -1, 7]), block('a', [seed])],
    fisher: [block('w.b', [0.5, seed]), block('head 0/w', [1e-8, 0, 3])],
    meta: { lambda: 100, decay: 0.9, online: true, note: null, tag: `s${seed}` },
  };
}

/** Blocks with plain byte arrays, so Buffer- and Uint8Array-backed results compare equal. */
function plainState(s: RegularizationState | undefined) {
  const plain = (b: TensorBlock) => ({
    name: b.name,
    dtype: b.dtype,
    shape: [...b.shape],
    bytes: [...b.bytes],
  });
  return s && { anchors: s.anchors.map(plain), fisher: s.fisher.map(plain), meta: s.meta };
}

function stream(id: string, task: number, seed: number): ContinualStream {
  const size = 20;
  const dim = 3;
  const x = Float32Array.from({ length: size * dim }, (_, i) => ((i * seed) % 17) / 17);
  const y = Int32Array.from({ length: size }, (_, i) => (i + seed) % 4);
  return { id, task, train: { x, y, size, dim, classes: 4 } };
}

/**
 * ReplayPlugin reads only the streams, their position and the store; a full context would need a model and
 * a scenario that play no part here, so the partial context is widened once, in this one place.
 */
function context(
  streams: readonly ContinualStream[],
  streamIndex: number,
  store: ContinualStateStore,
): StreamContext {
  const partial: Pick<StreamContext, 'streams' | 'streamIndex' | 'stream' | 'store'> = {
    streams,
    streamIndex,
    stream: streams[streamIndex] as ContinualStream,
    store,
  };
  return partial as StreamContext;
}

runContinualStateSuite('PostgresContinualStateStore on PGlite (in-memory)', async () => {
  const store = await openStore({ memory: true });
  return { store, close: () => store.close() };
});

const url = readEnv().DATABASE_URL;
const title = url
  ? 'PostgresContinualStateStore on PostgreSQL (DATABASE_URL)'
  : 'PostgresContinualStateStore on PostgreSQL — SKIPPED: DATABASE_URL is not set';
describe.skipIf(!url)(title, () => {
  runContinualStateSuite('postgres.js driver', async () => {
    const db = await createTestDatabase(url as string, 'continual');
    const store = await openStore({ url: db.url });
    return {
      store,
      async close() {
        await store.close();
        await db.drop();
      },
    };
  });
});
