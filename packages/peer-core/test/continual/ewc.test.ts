import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { ContinualLearner } from '../../src/continual/continual-learner.js';
import { EwcPlugin } from '../../src/continual/ewc.js';
import { diagonalFisher, type FisherModel, pickRows } from '../../src/continual/fisher.js';
import { mergeFisher } from '../../src/continual/fisher-blocks.js';
import { blockValues, floatBlock, snapshotParameters } from '../../src/continual/model-parameters.js';
import { QuadraticPenalty } from '../../src/continual/quadratic-penalty.js';
import { InMemoryContinualStateStore } from '../../src/continual/state-store.js';
import type { LabeledData } from '../../src/data/labeled-data.js';
import type { TensorBlock } from '../../src/serialization/tensor-block.js';
import { coalesceExpertGradients } from '../../src/train/coalesce-expert-gradients.js';
import { createRandom } from '../../src/util/random.js';
import { syntheticStreams, tinyModel } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

/** Logistic regression logits = x W + b, W [3, 2]: its log-likelihood gradient is known in closed form. */
function logistic(): FisherModel & { w: tf.Variable; b: tf.Variable } {
  const w = tf.variable(tf.tensor2d([0.5, -1, 0.25, 0.75, -0.5, 1], [3, 2]));
  const b = tf.variable(tf.tensor1d([0.1, -0.2]));
  return {
    w,
    b,
    logits: (x) => tf.tidy(() => x.matMul(w).add(b)),
    trainableVariables: () => [w, b],
    peerLayers: () => [],
  };
}

const data: LabeledData = {
  x: Float32Array.from([1, 0, 2, -1, 1, 0.5, 0.3, -2, 1, 0, 0, 1]),
  y: Int32Array.from([0, 1, 1, 0]),
  size: 4,
  dim: 3,
  classes: 2,
};

/** F = mean_n g_n^2 with g = d log p(y|x)/d theta = x (onehot(y) - p) for W and (onehot(y) - p) for b. */
function handFisher(model: { w: tf.Variable; b: tf.Variable }, labelOf: (n: number, p: number[]) => number) {
  const W = Array.from(model.w.dataSync());
  const B = Array.from(model.b.dataSync());
  const fw = new Array(6).fill(0);
  const fb = new Array(2).fill(0);
  for (let n = 0; n < data.size; n++) {
    const x = Array.from(data.x.subarray(3 * n, 3 * n + 3));
    const z = [0, 1].map((c) => x.reduce((s, xi, i) => s + xi * (W[2 * i + c] ?? 0), B[c] ?? 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    const y = labelOf(n, p);
    const err = [0, 1].map((c) => (c === y ? 1 : 0) - (p[c] ?? 0));
    for (let i = 0; i < 3; i++)
      for (let c = 0; c < 2; c++) fw[2 * i + c] += ((x[i] ?? 0) * (err[c] ?? 0)) ** 2 / data.size;
    for (let c = 0; c < 2; c++) fb[c] += (err[c] ?? 0) ** 2 / data.size;
  }
  return { fw, fb };
}

const named = (blocks: readonly TensorBlock[], name: string): TensorBlock => {
  const block = blocks.find((b) => b.name === name);
  if (!block) throw new Error(`no block ${name}`);
  return block;
};

const close = (actual: ArrayLike<number>, expected: number[]) => {
  for (const [i, v] of expected.entries()) expect(actual[i]).toBeCloseTo(v, 5);
};

describe('diagonal Fisher', () => {
  it('with true labels equals the hand-computed mean of squared log-likelihood gradients', () => {
    const model = logistic();
    const fisher = diagonalFisher(model, data, { samples: 4, labels: 'true', head: 0, seed: 1 });
    const { fw, fb } = handFisher(model, (n) => data.y[n] ?? 0);
    close(fisher.variables.get(model.w) ?? [], fw);
    close(fisher.variables.get(model.b) ?? [], fb);
    expect(fisher.samples).toBe(4);
    tf.dispose([model.w, model.b]);
  });

  it('with sampled labels draws each label from the model (same seeded draws by hand)', () => {
    const model = logistic();
    const fisher = diagonalFisher(model, data, { samples: 4, labels: 'sample', head: 0, seed: 7 });
    // Replay the estimator's draws: row order first, then one uniform per example in that order.
    const rng = createRandom(7);
    const rows = Array.from(pickRows(4, 4, rng));
    const draws = rows.map(() => rng.next());
    const { fw, fb } = handFisher(model, (n, p) => {
      const u = draws[rows.indexOf(n)] ?? 0;
      return u < (p[0] ?? 0) ? 0 : 1;
    });
    close(fisher.variables.get(model.w) ?? [], fw);
    close(fisher.variables.get(model.b) ?? [], fb);
    tf.dispose([model.w, model.b]);
  });

  it('covers the expert rows of a PEER classifier (only retrieved experts get Fisher mass)', () => {
    const model = tinyModel('task');
    const x = createRandom(2).fillNormal(new Float32Array(8 * 6), 1);
    const set: LabeledData = { x, y: new Int32Array(8), size: 8, dim: 6, classes: 2 };
    const fisher = diagonalFisher(model, set, { samples: 8, labels: 'true', head: 0, seed: 1 });
    const layer = model.peerLayers()[0];
    if (!layer) throw new Error('no layer');
    const u = fisher.experts.get(layer)?.u ?? new Float32Array(0);
    const d = layer.experts.d;
    let rowsWithMass = 0;
    for (let id = 0; id < layer.numExperts; id++)
      if (u.subarray(id * d, (id + 1) * d).some((v) => v > 0)) rowsWithMass++;
    expect(rowsWithMass).toBeGreaterThan(0);
    expect(rowsWithMass).toBeLessThanOrEqual(8 * 2 * 4); // tokens * heads * k
    expect(u.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
    model.dispose();
  });
});

describe('QuadraticPenalty (EWC / L2-SP)', () => {
  it('equals (lambda/2) sum F (theta - anchor)^2 by hand and pushes lambda F (theta - anchor) to the expert sink', () => {
    const model = tinyModel('task');
    const rng = createRandom(4);
    // Anchors: the parameters moved by a known amount; Fisher: known random values.
    const anchors = snapshotParameters(model).map((b) => {
      const v = blockValues(b).map((x) => x + rng.normal() * 0.1);
      return floatBlock(b.name, b.shape, v);
    });
    const fisher = anchors.map((b) =>
      floatBlock(
        b.name,
        b.shape,
        blockValues(b).map(() => rng.next()),
      ),
    );
    const lambda = 3;
    let expected = 0;
    const current = new Map(snapshotParameters(model).map((b) => [b.name, blockValues(b)]));
    anchors.forEach((a, i) => {
      const theta = current.get(a.name) ?? new Float32Array(0);
      const anchor = blockValues(a);
      const f = blockValues(fisher[i] ?? a);
      for (let j = 0; j < anchor.length; j++)
        expected += (lambda / 2) * (f[j] ?? 0) * ((theta[j] ?? 0) - (anchor[j] ?? 0)) ** 2;
    });
    const penalty = new QuadraticPenalty(model, [{ anchors, weights: fisher }], lambda);
    const layer = model.peerLayers()[0];
    if (!layer) throw new Error('no layer');
    layer.gradients.drain();
    const value = penalty.value({ pushExpertGradients: true });
    expect(value.dataSync()[0]).toBeCloseTo(expected, 3);
    // The sink now holds lambda * F * (theta - anchor) for every expert row of both tables.
    const d = layer.experts.d;
    const grads = coalesceExpertGradients(
      layer.gradients.drain(),
      layer.kernels,
      d,
      0,
      new Int32Array(layer.numExperts).fill(-1),
    );
    const uName = 'blocks.0.peer.experts.u';
    const ua = blockValues(named(anchors, uName));
    const uf = blockValues(named(fisher, uName));
    const theta = current.get(uName) ?? new Float32Array(0);
    expect(grads.ids.length).toBe(layer.numExperts);
    grads.ids.forEach((id, row) => {
      for (let c = 0; c < d; c += 5) {
        const i = id * d + c;
        expect(grads.gradU[row * d + c]).toBeCloseTo(
          lambda * (uf[i] ?? 0) * ((theta[i] ?? 0) - (ua[i] ?? 0)),
          5,
        );
      }
    });
    value.dispose();
    penalty.dispose();
    model.dispose();
  });

  it('differentiates the variable part exactly: d/dtheta = lambda F (theta - anchor)', () => {
    const model = tinyModel('task');
    const w = model.input.weight;
    const anchorValues = blockValues(named(snapshotParameters(model), 'input.weight')).map((v) => v - 0.5);
    const f = anchorValues.map((_, i) => (i % 3) + 1);
    const penalty = new QuadraticPenalty(
      model,
      [
        {
          anchors: [floatBlock('input.weight', w.shape, anchorValues)],
          weights: [floatBlock('input.weight', w.shape, f)],
        },
      ],
      2,
    );
    const { grads } = tf.variableGrads(() => penalty.value(), [w]);
    const g = grads[w.name]?.dataSync() ?? [];
    const theta = w.dataSync();
    for (let i = 0; i < theta.length; i++)
      expect(g[i]).toBeCloseTo(2 * (f[i] ?? 0) * ((theta[i] ?? 0) - (anchorValues[i] ?? 0)), 5);
    tf.dispose(Object.values(grads));
    penalty.dispose();
    model.dispose();
  });
});

describe('online EWC Fisher merge', () => {
  it('is decay * F_old + F_new by name, zero-padding grown tables', () => {
    const old = [
      floatBlock('a', [2], Float32Array.from([1, 2])),
      floatBlock('e', [1, 2], Float32Array.from([4, 4])),
    ];
    const next = [
      floatBlock('a', [2], Float32Array.from([10, 20])),
      floatBlock('e', [2, 2], Float32Array.from([1, 1, 1, 1])),
    ];
    const merged = new Map(mergeFisher(old, next, 0.5).map((b) => [b.name, Array.from(blockValues(b))]));
    expect(merged.get('a')).toEqual([10.5, 21]);
    expect(merged.get('e')).toEqual([3, 3, 1, 1]);
  });
});

describe('EwcPlugin persistence', () => {
  it('resumes from the state store: a fresh plugin loads the saved (anchor, Fisher) of past versions', async () => {
    const model = tinyModel('task');
    const store = new InMemoryContinualStateStore();
    const streams = syntheticStreams('task');
    const [first, second] = streams;
    if (!first || !second) throw new Error('streams');
    await new ContinualLearner(
      model,
      { scenario: 'task', steps: 3, batchSize: 8 },
      { plugins: [new EwcPlugin({ samples: 8 })], store },
    ).run([first]);
    const fresh = new EwcPlugin({ samples: 8, strength: 50 });
    await fresh.beforeStream({
      model,
      scenario: 'task',
      streamIndex: 1,
      stream: second,
      streams,
      store,
      previousVersionKey: 'run/after-task-0',
      pastVersionKeys: ['run/after-task-0'],
      versionKey: 'run/after-task-1',
      headOf: (t) => t,
    });
    const atAnchor = fresh.penalty();
    expect(atAnchor?.dataSync()[0]).toBe(0);
    model.input.weight.assign(tf.tidy(() => model.input.weight.add(0.1)));
    const moved = fresh.penalty();
    expect(moved?.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([atAnchor, moved].filter((t): t is tf.Scalar => t !== null));
    for (const layer of model.peerLayers()) layer.gradients.drain();
    fresh.dispose();
    model.dispose();
  });
});
