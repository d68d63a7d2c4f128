import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { ContinualLearner } from '../../src/continual/continual-learner.js';
import { FreezeAndGrowPlugin } from '../../src/continual/freeze-and-grow.js';
import { snapshotParameters } from '../../src/continual/model-parameters.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import type { ClassifierPrediction } from '../../src/models/classifier.js';
import type { TensorBlock } from '../../src/serialization/tensor-block.js';
import { syntheticStreams, tinyModel, tinyPeer } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const bytesEqual = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe('FreezeAndGrowPlugin', () => {
  it('keeps every stream-1 parameter bit-identical, and outputs of stream-1 inputs that retrieve no new expert', async () => {
    // k = 2 of 8 rows: a single new row is rarely among an old input's top rows.
    const model = tinyModel('task', 2, { blocks: 2, peer: { ...tinyPeer, topK: 2 } });
    // Stream 2 is a new domain (inputs shifted): its queries land away from stream 1's.
    const streams = syntheticStreams('task', 2, 40, 4);
    const test = streams[0]?.test;
    if (!test) throw new Error('no test set');
    const plugin = new FreezeAndGrowPlugin({ rows: 1, seed: 1 });
    const learner = new ContinualLearner(
      model,
      { scenario: 'task', steps: 25, batchSize: 16, probeSize: 20 },
      { plugins: [plugin] },
    );
    const x = tf.tensor2d(test.x, [test.size, test.dim]);
    let params1: TensorBlock[] = [];
    let bnStats1: Float32Array[] = [];
    let before: ClassifierPrediction | undefined;
    const bnStats = () =>
      model.peerLayers().flatMap((l) => l.query.variables().map((v) => Float32Array.from(v.dataSync())));
    await learner.run(streams, {
      onStream: async (r) => {
        if (r.id !== 'task-0') return;
        // Stream 1's parameters: everything but the head of the task still to come.
        params1 = snapshotParameters(model).filter((b) => !b.name.startsWith('heads.1.'));
        bnStats1 = bnStats();
        before = await model.predictAsync(x, { task: 0 });
      },
    });
    const now = new Map(snapshotParameters(model).map((b) => [b.name, b]));
    expect(params1.length).toBeGreaterThan(10);
    for (const block of params1) {
      const current = now.get(block.name);
      if (!current) throw new Error(`missing ${block.name}`);
      // Expert tables grew; their first rows are stream 1's experts.
      expect(bytesEqual(current.bytes.subarray(0, block.bytes.length), block.bytes), block.name).toBe(true);
    }
    for (const [i, s] of bnStats().entries()) {
      const before = bnStats1[i] ?? new Float32Array(0);
      expect(bytesEqual(new Uint8Array(s.buffer), new Uint8Array(before.buffer))).toBe(true);
    }
    expect(model.peerLayers().map((l) => l.numExperts)).toEqual([72, 72]);
    expect(plugin.grown[0]?.ranges).toEqual([
      { from: 64, to: 72 },
      { from: 64, to: 72 },
    ]);

    const after = await model.predictAsync(x, { task: 0 });
    const per = 2 * 2; // heads * k
    let unchanged = 0;
    for (let t = 0; t < test.size; t++) {
      const retrievesNew = after.retrievals.some((r) =>
        r.ids.subarray(t * per, (t + 1) * per).some((id) => id >= 64),
      );
      if (retrievesNew) continue;
      unchanged++;
      expect(Array.from(after.probabilities.subarray(2 * t, 2 * t + 2))).toEqual(
        Array.from(before?.probabilities.subarray(2 * t, 2 * t + 2) ?? []),
      );
    }
    expect(unchanged).toBeGreaterThan(0);
    x.dispose();
    learner.dispose();
    model.dispose();
  });

  it('with freezeNewKeys, keeps the new sub-keys at their k-means placement while the new experts train', async () => {
    const run = async (freezeNewKeys: boolean) => {
      const model = tinyModel('domain', 1, { peer: { ...tinyPeer, topK: 2 } });
      const streams = syntheticStreams('domain', 2, 40, 4);
      let placed: Float32Array[] = [];
      let experts: Float32Array[] = [];
      const snapshot = () =>
        model
          .peerLayers()
          .flatMap((l) => [
            Float32Array.from(l.keys.segments.at(-1)?.dataSync() ?? []),
            Float32Array.from(l.experts.rowRange('u', 0, l.experts.rows)),
          ]);
      const plugin = new FreezeAndGrowPlugin({ rows: 1, seed: 1, freezeNewKeys });
      // The learner's first step on stream 2 comes after every beforeStream: snapshot right after growth.
      const probe = {
        name: 'probe',
        describe: () => ({ name: 'probe', settings: {} }),
        beforeStream: (ctx: { streamIndex: number }) => {
          if (ctx.streamIndex !== 1) return;
          const s = snapshot();
          placed = s.filter((_, i) => i % 2 === 0);
          experts = s.filter((_, i) => i % 2 === 1);
        },
      };
      const learner = new ContinualLearner(
        model,
        { scenario: 'domain', steps: 25, batchSize: 16, probeSize: 4 },
        { plugins: [plugin, probe] },
      );
      await learner.run(streams);
      const after = snapshot();
      const keysKept = placed.every((k, i) =>
        bytesEqual(new Uint8Array(k.buffer), new Uint8Array(after[2 * i]?.buffer ?? new ArrayBuffer(0))),
      );
      const expertsMoved = experts.some(
        (u, i) =>
          !bytesEqual(
            new Uint8Array(u.buffer),
            new Uint8Array(after[2 * i + 1]?.buffer ?? new ArrayBuffer(0)),
          ),
      );
      expect(plugin.describe().settings.freezeNewKeys).toBe(freezeNewKeys);
      learner.dispose();
      model.dispose();
      return { keysKept, expertsMoved };
    };
    expect(await run(true)).toEqual({ keysKept: true, expertsMoved: true });
    // Without it the same run moves the new keys: the check above can fail.
    expect(await run(false)).toEqual({ keysKept: false, expertsMoved: true });
  });

  it('rejects a model without PEER layers with a typed error naming the field', async () => {
    const model = tinyModel('task', 2, { ffn: 'dense' });
    const learner = new ContinualLearner(
      model,
      { scenario: 'task', steps: 1, batchSize: 4 },
      { plugins: [new FreezeAndGrowPlugin()] },
    );
    await expect(learner.run(syntheticStreams('task'))).rejects.toThrow(PeerConfigError);
    await expect(learner.run(syntheticStreams('task'))).rejects.toThrow(/'model.ffn' must be 'peer'/);
    model.dispose();
  });
});
