import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { filterByLabel, toTensors } from '../../src/data/labeled-data.js';
import { gaussianClusters } from '../../src/data/synthetic.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { PeerClassifier } from '../../src/models/classifier.js';
import type { DenseFeedForward } from '../../src/models/feed-forward.js';
import { evaluateAccuracy } from '../../src/train/evaluate.js';
import { classifierObjective } from '../../src/train/objectives.js';
import { Trainer } from '../../src/train/trainer.js';
import { createRandom } from '../../src/util/random.js';
import { geluScalar, layerNorm, matmul, maxRelError } from './naive-reference.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

const f64 = (t: tf.Tensor) => Float64Array.from(t.dataSync());
const tiny = { subKeyRows: 8, subKeyCols: 8, heads: 2, topK: 4, dKey: 8 } as const;
const owned: { dispose(): void }[] = [];
const keep = <T extends { dispose(): void }>(m: T): T => {
  owned.push(m);
  return m;
};
afterEach(() => {
  for (const m of owned.splice(0)) m.dispose();
});

/** The classifier's blocks and head in float64, with `ffn` computing each block's FFN of LN(h). */
function naiveLogits(
  model: PeerClassifier,
  xs: Float32Array,
  n: number,
  ffn: (b: number, a: Float64Array) => Float64Array,
) {
  const { inDim, dModel: d, classes, layerNormEpsilon: eps } = model.config;
  const bias = (v: tf.Variable | undefined) => (v ? f64(v) : undefined);
  let h = matmul(Float64Array.from(xs), f64(model.input.weight), n, inDim, d, bias(model.input.bias));
  model.blocks.forEach(({ norm }, b) => {
    const out = ffn(b, layerNorm(h, n, d, f64(norm.gamma), f64(norm.beta), eps));
    h = h.map((v, i) => v + (out[i] ?? 0));
  });
  const final = layerNorm(h, n, d, f64(model.finalNorm.gamma), f64(model.finalNorm.beta), eps);
  const head = model.heads[0];
  if (!head) throw new Error('no head');
  return matmul(final, f64(head.weight), n, d, classes, bias(head.bias));
}

describe('PeerClassifier', () => {
  const xs = createRandom(3).fillNormal(new Float32Array(6 * 5), 1);

  it('with dense blocks, matches a float64 reference of the whole network', () => {
    const model = keep(
      new PeerClassifier({ inDim: 5, classes: 3, dModel: 8, blocks: 2, ffn: 'dense' }, { seed: 1 }),
    );
    const x = tf.tensor2d(xs, [6, 5]);
    const expected = naiveLogits(model, xs, 6, (b, a) => {
      const ffn = model.blocks[b]?.ffn as DenseFeedForward;
      const [up, down] = [ffn.up, ffn.down];
      const hidden = matmul(a, f64(up.weight), 6, 8, 32, up.bias ? f64(up.bias) : undefined).map(geluScalar);
      return matmul(hidden, f64(down.weight), 6, 32, 8, down.bias ? f64(down.bias) : undefined);
    });
    expect(maxRelError(model.logits(x).dataSync(), expected)).toBeLessThan(1e-5);
    x.dispose();
  });

  it('with PEER blocks, composes input projection, residual PEER blocks, final LN and head', () => {
    const model = keep(
      new PeerClassifier({ inDim: 5, classes: 3, dModel: 8, blocks: 2, peer: tiny }, { seed: 2 }),
    );
    const x = tf.tensor2d(xs, [6, 5]);
    const expected = naiveLogits(model, xs, 6, (b, a) => {
      const layer = model.peerLayers()[b];
      if (!layer) throw new Error('no layer');
      const out = tf.tidy(() => layer.apply(tf.tensor2d(Float32Array.from(a), [6, 8])));
      const values = f64(out);
      out.dispose();
      return values;
    });
    expect(model.peerLayers()).toHaveLength(2);
    expect(model.peerLayers()[0]).not.toBe(model.peerLayers()[1]);
    expect(maxRelError(model.logits(x).dataSync(), expected)).toBeLessThan(1e-5);
    x.dispose();
  });

  it('predictAsync agrees with logits and reports each block retrieval', async () => {
    const model = keep(
      new PeerClassifier({ inDim: 5, classes: 3, dModel: 8, blocks: 2, peer: tiny }, { seed: 2 }),
    );
    const x = tf.tensor2d(xs, [6, 5]);
    // The first inference caches serving tensors (transposed sub-keys, BN folded into weights) per layer.
    (await model.predictAsync(x)).retrievals.length;
    const before = tf.memory().numTensors;
    const prediction = await model.predictAsync(x);
    expect(tf.memory().numTensors).toBe(before);
    const probs = tf.tidy(() => tf.softmax(model.logits(x)).dataSync());
    expect(maxRelError(prediction.probabilities, probs)).toBeLessThan(1e-5);
    const argmax = tf.tidy(() => tf.argMax(model.logits(x), 1).dataSync());
    expect(Array.from(prediction.classes)).toEqual(Array.from(argmax));
    expect(prediction.retrievals).toHaveLength(2);
    for (const r of prediction.retrievals) {
      expect([r.tokens, r.heads, r.k, r.ids.length]).toEqual([6, 2, 4, 6 * 2 * 4]);
      expect(r.ids.every((id) => id >= 0 && id < 64)).toBe(true);
    }
    x.dispose();
  });

  it('learns the synthetic clusters to > 90% test accuracy in a few hundred steps at tiny size', async () => {
    const { train, test } = gaussianClusters({
      classes: 6,
      dim: 8,
      clustersPerClass: 3,
      trainPerClass: 200,
      seed: 4,
    });
    const model = keep(new PeerClassifier({ inDim: 8, classes: 6, dModel: 16, peer: tiny }, { seed: 3 }));
    const trainer = keep(new Trainer(model, { learningRate: 3e-3 }));
    const history = await trainer.fit({
      steps: 300,
      batchSize: 32,
      loss: classifierObjective(model, train, { batchSize: 32, seed: 5 }),
    });
    const { x, y } = toTensors(test);
    const { accuracy } = await evaluateAccuracy(model, x, y);
    tf.dispose([x, y]);
    expect(history.steps).toBe(300);
    expect(history.losses[299]).toBeLessThan((history.losses[0] ?? 0) / 4);
    expect(accuracy).toBeGreaterThan(0.9);
  });

  it('per-task heads: each task trains and is read through its own head', async () => {
    // Same inputs, conflicting labels: task 1's label is task 0's shifted by one. One shared head cannot fit
    // both; two heads can, and reading task 1 through head 0 must then be wrong almost always.
    const { train, test } = gaussianClusters({
      classes: 4,
      dim: 8,
      clustersPerClass: 2,
      trainPerClass: 150,
      seed: 6,
    });
    const shift = (d: typeof train) =>
      filterByLabel(
        d,
        () => true,
        (l) => (l + 1) % 4,
      );
    const model = keep(
      new PeerClassifier({ inDim: 8, classes: 4, dModel: 16, taskHeads: 2, peer: tiny }, { seed: 4 }),
    );
    const trainer = keep(new Trainer(model, { learningRate: 3e-3 }));
    const task0 = classifierObjective(model, train, { batchSize: 32, seed: 1, task: 0 });
    const task1 = classifierObjective(model, shift(train), { batchSize: 32, seed: 2, task: 1 });
    await trainer.fit({
      steps: 400,
      batchSize: 32,
      loss: (step) => (step % 2 === 0 ? task0() : task1()),
    });
    const t0 = toTensors(test);
    const t1 = toTensors(shift(test));
    const own0 = await evaluateAccuracy(model, t0.x, t0.y, { task: 0 });
    const own1 = await evaluateAccuracy(model, t1.x, t1.y, { task: 1 });
    const crossed = await evaluateAccuracy(model, t1.x, t1.y, { task: 0 });
    tf.dispose([t0.x, t0.y, t1.x, t1.y]);
    expect(own0.accuracy).toBeGreaterThan(0.9);
    expect(own1.accuracy).toBeGreaterThan(0.9);
    expect(crossed.accuracy).toBeLessThan(0.1);
  });

  it('rejects an unknown task and wrong input width with typed errors', async () => {
    const model = keep(new PeerClassifier({ inDim: 5, classes: 3, dModel: 8, taskHeads: 2, peer: tiny }));
    const x = tf.tensor2d(xs, [6, 5]);
    expect(() => model.logits(x, { task: 2 })).toThrow(PeerConfigError);
    expect(() => model.logits(x, { task: 2 })).toThrow(/'task' must be an integer in \[0, 1\], but got 2/);
    await expect(model.predictAsync(x, { task: -1 })).rejects.toThrow(PeerConfigError);
    const wrong = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => model.logits(wrong)).toThrow(/\[n, 5\]/);
    tf.dispose([x, wrong]);
  });

  it('config errors name field, bound and value, also inside the PEER settings', () => {
    const fieldOf = (input: unknown) => {
      try {
        keep(new PeerClassifier(input as never));
      } catch (error) {
        if (error instanceof PeerConfigError) return [error.field, error.bound, error.value];
      }
      return undefined;
    };
    expect(fieldOf({ inDim: 5, classes: 0 })).toEqual(['classes', '> 0', 0]);
    expect(fieldOf({ inDim: 5, classes: 3, peer: { topK: 0 } })).toEqual(['peer.topK', '> 0', 0]);
    expect(fieldOf({ inDim: 5, classes: 3, peer: { ...tiny, topK: 9 } })).toEqual([
      'peer.topK',
      '<= subKeyRows (8)',
      9,
    ]);
    expect(fieldOf({ inDim: 5, classes: 3, peer: { ...tiny, dModel: 8 } })?.[0]).toBe('peer');
    expect(fieldOf({ inDim: 5, classes: 3, hidden: 3 })?.[1]).toMatch(/unknown: hidden/);
  });

  it('getConfig returns the filled-in config, which rebuilds an identical model', () => {
    const a = keep(new PeerClassifier({ inDim: 5, classes: 3, dModel: 8, peer: tiny }, { seed: 9 }));
    const b = keep(new PeerClassifier(a.getConfig(), { seed: 9 }));
    expect(a.getConfig()).toMatchObject({
      blocks: 1,
      taskHeads: 1,
      ffn: 'peer',
      peer: { ...tiny, sharedKeys: true },
    });
    const x = tf.tensor2d(xs, [6, 5]);
    expect(Array.from(b.logits(x).dataSync())).toEqual(Array.from(a.logits(x).dataSync()));
    x.dispose();
  });
});
