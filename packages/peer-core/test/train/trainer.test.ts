import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { gaussianClusters } from '../../src/data/synthetic.js';
import { PeerConfigError, PeerError } from '../../src/errors/peer-error.js';
import type { PeerLayer } from '../../src/layer/peer-layer.js';
import { CharTransformer } from '../../src/models/char-transformer.js';
import { PeerClassifier } from '../../src/models/classifier.js';
import { classifierObjective, languageModelObjective } from '../../src/train/objectives.js';
import { Trainer } from '../../src/train/trainer.js';
import { createRandom } from '../../src/util/random.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const peer = { subKeyRows: 8, subKeyCols: 8, heads: 2, topK: 4, dKey: 8 } as const;
const { train } = gaussianClusters({ classes: 4, dim: 6, trainPerClass: 50, seed: 1 });
const owned: { dispose(): void }[] = [];
const keep = <T extends { dispose(): void }>(m: T): T => {
  owned.push(m);
  return m;
};
afterEach(() => {
  for (const m of owned.splice(0)) m.dispose();
});

const classifier = (extra: object = {}) =>
  keep(new PeerClassifier({ inDim: 6, classes: 4, dModel: 16, blocks: 2, peer, ...extra }, { seed: 2 }));

/** Every parameter and statistic of a PEER layer, copied. */
function peerState(layer: PeerLayer): Float32Array[] {
  const n = layer.numExperts * layer.experts.d;
  return [
    ...layer.query.variables().map((v) => Float32Array.from(v.dataSync())),
    ...layer.keys.variables().map((v) => Float32Array.from(v.dataSync())),
    layer.experts.u.data.slice(0, n),
    layer.experts.v.data.slice(0, n),
  ];
}

const bitsEqual = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

describe('Trainer', () => {
  it('keeps the tensor count constant across steps (classifier with PEER blocks)', async () => {
    const model = classifier();
    const trainer = keep(new Trainer(model));
    const loss = classifierObjective(model, train, { batchSize: 16 });
    trainer.step(loss).dispose(); // creates the optimizer state
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      trainer.step(loss).dispose();
      expect(tf.memory().numTensors).toBe(baseline);
    }
    await trainer.fit({ steps: 10, batchSize: 16, loss });
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('keeps the tensor count constant across steps (LM with a PEER middle block)', async () => {
    const text = Int32Array.from({ length: 200 }, (_, i) => i % 7);
    const lm = keep(
      new CharTransformer({ vocabSize: 7, contextLength: 8, dModel: 16, heads: 2, ffn: 'peer', peer }),
    );
    const trainer = keep(new Trainer(lm));
    const loss = languageModelObjective(lm, text, { batchSize: 4 });
    trainer.step(loss).dispose();
    const baseline = tf.memory().numTensors;
    await trainer.fit({ steps: 5, batchSize: 4, loss });
    expect(tf.memory().numTensors).toBe(baseline);
  });

  it('throws on a step that leaves a tensor behind', () => {
    const model = classifier();
    const trainer = keep(new Trainer(model));
    const loss = classifierObjective(model, train, { batchSize: 16 });
    trainer.step(loss).dispose();
    let leaked: tf.Tensor | undefined;
    const leaky = () => {
      leaked = tf.keep(tf.zeros([1]));
      return loss();
    };
    expect(() => trainer.step(leaky)).toThrow(expect.objectContaining({ code: 'tensor_leak' }));
    leaked?.dispose();
    const quiet = keep(new Trainer(model, { checkLeaks: false }));
    quiet.step(loss).dispose();
    quiet.step(leaky).dispose();
    leaked?.dispose();
  });

  it('leaves frozen PEER parameters bit-identical while the rest trains', async () => {
    const model = classifier();
    const [frozen, live] = model.peerLayers() as [PeerLayer, PeerLayer];
    frozen.frozenExperts = frozen.numExperts;
    frozen.query.freeze(); // weight, gamma, beta not trainable; BN serves from its running statistics
    frozen.keys.freezeAll();
    for (const v of [...frozen.query.variables(), ...frozen.keys.variables()])
      expect(v.trainable).toBe(false);
    const before = peerState(frozen);
    const liveBefore = peerState(live);
    const inputBefore = model.input.weight.dataSync().slice() as Float32Array;
    const trainer = keep(new Trainer(model, { learningRate: 1e-2 }));
    await trainer.fit({
      steps: 20,
      batchSize: 16,
      loss: classifierObjective(model, train, { batchSize: 16 }),
    });
    peerState(frozen).forEach((after, i) => {
      expect(bitsEqual(after, before[i] as Float32Array), `array ${i}`).toBe(true);
    });
    // The same run moves everything that is not frozen, so the check above can fail.
    peerState(live).forEach((after, i) => {
      expect(bitsEqual(after, liveBefore[i] as Float32Array), `live array ${i}`).toBe(false);
    });
    expect(bitsEqual(model.input.weight.dataSync() as Float32Array, inputBefore)).toBe(false);
  });

  it('leaves a task head without gradient untouched (Adam moments kept per variable)', async () => {
    const model = classifier({ taskHeads: 2 });
    const trainer = keep(new Trainer(model, { learningRate: 1e-2 }));
    await trainer.fit({
      steps: 5,
      batchSize: 16,
      loss: classifierObjective(model, train, { batchSize: 16, task: 0 }),
    });
    const head0 = model.heads[0]?.weight.dataSync().slice() as Float32Array;
    const head1 = model.heads[1]?.weight.dataSync().slice() as Float32Array;
    await trainer.fit({
      steps: 5,
      batchSize: 16,
      loss: classifierObjective(model, train, { batchSize: 16, task: 1 }),
    });
    expect(bitsEqual(model.heads[0]?.weight.dataSync() as Float32Array, head0)).toBe(true);
    expect(bitsEqual(model.heads[1]?.weight.dataSync() as Float32Array, head1)).toBe(false);
  });

  it('steps tfjs variables with the native fused Adam where the kernels are native', () => {
    expect(keep(new Trainer(classifier())).denseAdam).toBe('native');
  });

  it('takes Adam steps: the first moves each weight by ~lr against its gradient sign', () => {
    const model = classifier({ ffn: 'dense' });
    const loss = classifierObjective(model, train, { batchSize: 16, seed: 3 });
    const w = model.input.weight;
    const grad = tf.tidy(() =>
      tf
        .variableGrads(classifierObjective(model, train, { batchSize: 16, seed: 3 }), [w])
        .grads[w.name]?.dataSync(),
    );
    const before = w.dataSync().slice();
    keep(new Trainer(model, { learningRate: 1e-3 }))
      .step(loss)
      .dispose();
    const after = w.dataSync();
    // Adam's first step is lr * g / (|g| + eps) = lr * sign(g) wherever |g| >> eps.
    for (let i = 0; i < before.length; i++) {
      const g = grad?.[i] ?? 0;
      if (Math.abs(g) < 1e-4) continue;
      expect((before[i] ?? 0) - (after[i] ?? 0)).toBeCloseTo(1e-3 * Math.sign(g), 6);
    }
  });

  it('reports progress every N steps and at the end, and stops on time limit or abort', async () => {
    const model = classifier();
    const trainer = keep(new Trainer(model, { progressEvery: 4 }));
    const loss = classifierObjective(model, train, { batchSize: 8 });
    const reports: number[] = [];
    const history = await trainer.fit({
      steps: 10,
      batchSize: 8,
      loss,
      onProgress: (p) => {
        expect(p.loss).toBeGreaterThan(0);
        expect(p.examplesPerSec).toBeGreaterThan(0);
        reports.push(p.step);
      },
    });
    expect(reports).toEqual([4, 8, 10]);
    expect(history.steps).toBe(10);
    expect(history.losses).toHaveLength(10);
    const timed = await trainer.fit({ steps: 10_000, batchSize: 8, loss, timeLimitMs: 150 });
    expect(timed.steps).toBeLessThan(10_000);
    expect(timed.elapsedMs).toBeLessThan(1500);
    const controller = new AbortController();
    const aborted = await trainer.fit({
      steps: 100,
      batchSize: 8,
      loss,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(aborted.steps).toBe(4);
  });

  it('validates its config and refuses a model with nothing to train', () => {
    expect(() => new Trainer(classifier(), { learningRate: -1 })).toThrow(
      expect.objectContaining({ field: 'learningRate', bound: '> 0', value: -1 }),
    );
    expect(() => new Trainer(classifier(), { learningRate: -1 })).toThrow(PeerConfigError);
    const trainer = keep(new Trainer({ trainableVariables: () => [], peerLayers: () => [] }));
    expect(() => trainer.step(() => tf.scalar(0))).toThrow(PeerError);
  });

  it('is deterministic: same seeds, same losses', async () => {
    const run = async () => {
      const model = keep(new PeerClassifier({ inDim: 6, classes: 4, dModel: 16, peer }, { seed: 7 }));
      const trainer = keep(new Trainer(model));
      const h = await trainer.fit({
        steps: 5,
        batchSize: 8,
        loss: classifierObjective(model, train, { batchSize: 8, seed: 1 }),
      });
      return Array.from(h.losses);
    };
    expect(await run()).toEqual(await run());
    expect(createRandom(1).next()).toBe(createRandom(1).next());
  });
});
