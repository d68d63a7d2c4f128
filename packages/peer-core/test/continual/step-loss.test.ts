import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import type { BatchTensors, ContinualPlugin, StreamContext } from '../../src/continual/plugin.js';
import type { Batch } from '../../src/continual/scenario.js';
import { InMemoryContinualStateStore } from '../../src/continual/state-store.js';
import { stepLoss } from '../../src/continual/step-loss.js';
import type { PeerClassifier } from '../../src/models/classifier.js';
import { softmaxCrossEntropy } from '../../src/models/cross-entropy.js';
import { syntheticStreams, tinyModel } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

/** A replay-like task-IL batch: rows 0..5 of task 0 and rows 0..3 of task 1, interleaved. */
function mixedBatch(): Batch {
  const [s0, s1] = syntheticStreams('task', 2);
  if (!s0 || !s1) throw new Error('two streams expected');
  const dim = s0.train.dim;
  const rows: { x: Float32Array; y: number; task: number }[] = [];
  for (let i = 0; i < 10; i++) {
    const s = i % 5 < 3 ? s0 : s1;
    const r = i * 7;
    rows.push({ x: s.train.x.subarray(r * dim, (r + 1) * dim), y: s.train.y[r] ?? 0, task: s.task });
  }
  const x = new Float32Array(rows.length * dim);
  for (const [i, row] of rows.entries()) x.set(row.x, i * dim);
  return {
    x,
    y: Int32Array.from(rows, (r) => r.y),
    task: Int32Array.from(rows, (r) => r.task),
    size: rows.length,
    dim,
  };
}

/** A penalty on the student's outputs under every head, like LwF's: mean squared logit per head. */
const logitPenalty: ContinualPlugin = {
  name: 'logit-penalty',
  describe: () => ({ name: 'logit-penalty', settings: {}, stores: [] }),
  penalty: (_ctx: StreamContext, batch: BatchTensors) =>
    tf.tidy(() => batch.logits(0).square().mean().add(batch.logits(1).square().mean()) as tf.Scalar),
};

describe('stepLoss (one forward shared by the loss and the penalties)', () => {
  // Built after the backend is up (beforeAll), hence the lets.
  let model: PeerClassifier;
  let ctx: StreamContext;
  const streams = syntheticStreams('task', 2);
  const batch = mixedBatch();
  beforeAll(() => {
    model = tinyModel('task', 2);
    ctx = {
      model,
      scenario: 'task',
      streamIndex: 1,
      stream: streams[1],
      streams,
      store: new InMemoryContinualStateStore(),
      previousVersionKey: 'v0',
      pastVersionKeys: ['v0'],
      versionKey: 'v1',
      headOf: (task: number) => task,
    } as StreamContext;
  });

  /** The same loss from one full forward per head, each example's CE read from its own head's row. */
  function reference(): tf.Scalar {
    return tf.tidy(() => {
      const x = tf.tensor2d(batch.x, [batch.size, batch.dim]);
      const byHead = [0, 1].map((h) => model.logits(x, { task: h, training: true }));
      let loss = tf.scalar(0);
      for (const h of [0, 1]) {
        const rows = [...batch.task.keys()].filter((i) => batch.task[i] === h);
        const logits = tf.gather(byHead[h] as tf.Tensor2D, tf.tensor1d(rows, 'int32'));
        const ce = softmaxCrossEntropy(
          logits,
          Int32Array.from(rows, (r) => batch.y[r] ?? 0),
        );
        loss = loss.add(ce.mul(rows.length / batch.size));
      }
      for (const logits of byHead) loss = loss.add(logits.square().mean());
      return loss;
    });
  }

  it('equals the loss and gradients of separate per-head forwards', () => {
    const vars = model.trainableVariables();
    const shared = tf.variableGrads(() => stepLoss(model, ctx, [logitPenalty], batch), vars);
    const separate = tf.variableGrads(reference, vars);
    expect(shared.value.dataSync()[0]).toBeCloseTo(separate.value.dataSync()[0] ?? Number.NaN, 5);
    let checked = 0;
    for (const [name, g] of Object.entries(separate.grads)) {
      const mine = shared.grads[name];
      if (!mine) throw new Error(`no shared gradient for ${name}`);
      const a = mine.dataSync();
      const b = g.dataSync();
      const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
      for (let i = 0; i < b.length; i++)
        expect(Math.abs((a[i] ?? 0) - (b[i] ?? 0)) / scale).toBeLessThan(1e-4);
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
    tf.dispose([
      shared.value,
      separate.value,
      ...Object.values(shared.grads),
      ...Object.values(separate.grads),
    ]);
  });

  it('runs the model body once per step, whatever the number of heads and penalties', () => {
    const features = vi.spyOn(model, 'features');
    tf.tidy(() => stepLoss(model, ctx, [logitPenalty, logitPenalty], batch));
    expect(features).toHaveBeenCalledTimes(1);
    features.mockRestore();
  });

  it('leaves no tensor behind', () => {
    tf.tidy(() => stepLoss(model, ctx, [logitPenalty], batch)).dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => stepLoss(model, ctx, [logitPenalty], batch)).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
