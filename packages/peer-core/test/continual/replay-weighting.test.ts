import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { batchLoss } from '../../src/continual/batch-loss.js';
import type { StreamContext } from '../../src/continual/plugin.js';
import { ReplayPlugin } from '../../src/continual/replay.js';
import { batchOf } from '../../src/continual/scenario.js';
import { InMemoryContinualStateStore } from '../../src/continual/state-store.js';
import { readTensorSync } from '../../src/util/read-tensor.js';
import { syntheticStreams, tinyModel } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe("replay weighting 'tasks' (van de Ven & Tolias 2019)", () => {
  it('weighs the current stream 1/t and the replay (t-1)/t, and batchLoss is that weighted cross-entropy', async () => {
    const model = tinyModel('task', 3);
    const streams = syntheticStreams('task', 3);
    const ctx = (i: number): StreamContext => ({
      model,
      scenario: 'task',
      streamIndex: i,
      stream: streams[i] ?? (streams[0] as never),
      streams,
      store: new InMemoryContinualStateStore(),
      previousVersionKey: undefined,
      pastVersionKeys: [],
      versionKey: `v${i}`,
      headOf: (t) => t,
    });
    const plugin = new ReplayPlugin({ capacity: 4, weighting: 'tasks', batchSize: 6 });
    await plugin.afterStream(ctx(0));
    await plugin.afterStream(ctx(1));
    const current = streams[2];
    if (!current) throw new Error('no stream');
    const batch = plugin.batchTransform(batchOf(current.train, 2, [0, 1, 2, 3]), ctx(2));
    expect(batch.size).toBe(10);
    const w = Array.from(batch.weight ?? []);
    // t = 3 tasks seen: 4 current examples share 1/3, 6 replayed share 2/3.
    for (const v of w.slice(0, 4)) expect(v).toBeCloseTo(1 / 12, 7);
    for (const v of w.slice(4)) expect(v).toBeCloseTo(2 / 18, 7);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);

    // Reference: per-example cross-entropy under each example's own head, weighted by hand.
    const loss = readTensorSync(tf.tidy(() => batchLoss(model, batch, (t) => t, false)))[0] ?? 0;
    let expected = 0;
    for (let i = 0; i < batch.size; i++) {
      const x = tf.tensor2d(batch.x.subarray(i * 6, (i + 1) * 6), [1, 6]);
      const logp = readTensorSync(
        tf.tidy(() => tf.logSoftmax(model.logits(x, { task: batch.task[i] ?? 0 }))),
      );
      x.dispose();
      expected -= (w[i] ?? 0) * (logp[batch.y[i] ?? 0] ?? 0);
    }
    expect(loss).toBeCloseTo(expected, 5);
    expect(plugin.describe().settings.weighting).toBe('tasks');
    model.dispose();
  });

  it("keys 'per class' on (task, label) outside class-IL, so each digit of domain-IL keeps its own quota", async () => {
    const model = tinyModel('domain', 2);
    const streams = syntheticStreams('domain', 2);
    const plugin = new ReplayPlugin({ capacity: 3 });
    const store = new InMemoryContinualStateStore();
    for (const [i, stream] of streams.entries()) {
      await plugin.afterStream({
        model,
        scenario: 'domain',
        streamIndex: i,
        stream,
        streams,
        store,
        previousVersionKey: undefined,
        pastVersionKeys: [],
        versionKey: `v${i}`,
        headOf: () => 0,
      });
    }
    expect(plugin.size).toBe(12); // 2 tasks x 2 labels x 3
    model.dispose();
  });
});
