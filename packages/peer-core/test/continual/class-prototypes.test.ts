import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import {
  type ClassPrototypeOptionsInput,
  ClassPrototypePlugin,
} from '../../src/continual/class-prototype-plugin.js';
import { ClassPrototypes } from '../../src/continual/class-prototypes.js';
import { ContinualLearner } from '../../src/continual/continual-learner.js';
import { FreezeAndGrowPlugin } from '../../src/continual/freeze-and-grow.js';
import type { StreamContext } from '../../src/continual/plugin.js';
import { PrototypeClassifier, prototypeFeatures } from '../../src/continual/prototype-classifier.js';
import { PROTOTYPE_STATE_METHOD, restorePrototypes } from '../../src/continual/prototype-state.js';
import type { ContinualStream, Scenario } from '../../src/continual/scenario.js';
import { InMemoryContinualStateStore } from '../../src/continual/state-store.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import type { PeerClassifier } from '../../src/models/classifier.js';
import { createRandom } from '../../src/util/random.js';
import { syntheticStreams, tinyModel } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('ClassPrototypes', () => {
  it('keeps per-class centroids (one centroid = the class mean), their scale, and nearest distances', async () => {
    const prototypes = new ClassPrototypes(2, 1);
    // Stream 0 teaches class 0 and 1, stream 1 class 2.
    prototypes.add(
      0,
      Float32Array.from([0, 0, 2, 0, 0, 8, 0, 10]),
      Int32Array.from([0, 0, 1, 1]),
      createRandom(1),
    );
    prototypes.add(1, Float32Array.from([10, 10, 12, 12]), Int32Array.from([2, 2]), createRandom(2));
    expect(prototypes.size).toBe(3);
    expect(prototypes.centroidsOf(0).map((c) => [...c])).toEqual([[1, 0]]);
    expect(prototypes.centroidsOf(1).map((c) => [...c])).toEqual([[0, 9]]);
    expect(prototypes.centroidsOf(2).map((c) => [...c])).toEqual([[11, 11]]);
    // Each point's squared distance to its class mean: 1, 1, 1, 1, 2, 2.
    expect(prototypes.scale).toBeCloseTo(8 / 6, 6);
    const { distances, streams } = await prototypes.nearest(Float32Array.from([1, 1, 9, 9, 6, 5]), 3, 4);
    // (6, 5): 25 + 25 = 50 to class 0's mean, 36 + 16 = 52 to class 1's, 25 + 36 = 61 to class 2's.
    expect([...distances.subarray(8, 12)].map((d) => Math.round(d))).toEqual([50, 52, 61, Infinity]);
    expect([...distances.subarray(0, 3)].map((d) => Math.round(d))).toEqual([1, 65, 200]);
    expect([...streams]).toEqual([0, 1, 0]);
  });

  it('caps the centroids of a class at its member count, and is empty until something is added', async () => {
    const prototypes = new ClassPrototypes(1, 4);
    const empty = await prototypes.nearest(Float32Array.from([0]), 1, 6);
    expect([...empty.streams]).toEqual([-1]);
    expect(empty.distances.every((d) => d === Number.POSITIVE_INFINITY)).toBe(true);
    prototypes.add(3, Float32Array.from([1, 2]), Int32Array.from([5, 5]), createRandom(0));
    expect(prototypes.centroidsOf(5).length).toBe(2);
    expect([...(await prototypes.nearest(Float32Array.from([1.9]), 1, 6)).streams]).toEqual([3]);
  });

  it('rejects bad settings and mismatched features with typed errors', () => {
    expect(() => new ClassPrototypes(2, 0)).toThrow(PeerConfigError);
    const prototypes = new ClassPrototypes(2, 1);
    expect(() => prototypes.add(0, new Float32Array(3), Int32Array.from([0, 1]), createRandom(0))).toThrow(
      /features/,
    );
  });
});

/** Prototypes of every stream's training inputs in the model's projection space. */
async function projectionPrototypes(
  model: ReturnType<typeof tinyModel>,
  streams: ReturnType<typeof syntheticStreams>,
  perClass: number,
): Promise<ClassPrototypes> {
  const prototypes = new ClassPrototypes(model.config.dModel, perClass);
  for (const [i, s] of streams.entries()) {
    const x = tf.tensor2d(s.train.x, [s.train.size, s.train.dim]);
    prototypes.add(i, await prototypeFeatures(model, x, 'projection'), s.train.y, createRandom(i));
    x.dispose();
  }
  return prototypes;
}

describe('PrototypeClassifier', () => {
  it("'task' answers among the classes of the stream whose prototype is nearest, whatever the head prefers", async () => {
    const before = tf.memory().numTensors;
    const model = tinyModel('class'); // 4 classes, untrained head
    const streams = syntheticStreams('class', 2, 20, 6); // task 1 shifted far from task 0
    const prototypes = await projectionPrototypes(model, streams, 2);
    const classifier = new PrototypeClassifier(model, prototypes, {
      mode: 'task',
      space: 'projection',
      weight: 1,
      streamClasses: [
        [0, 1],
        [2, 3],
      ],
    });
    for (const [i, s] of streams.entries()) {
      const test = s.test;
      if (!test) throw new Error('no test split');
      const x = tf.tensor2d(test.x, [test.size, test.dim]);
      const { classes } = await classifier.predictAsync(x);
      // The streams are far apart, so every input's answer comes from its own stream's two classes.
      for (const c of classes) expect([2 * i, 2 * i + 1]).toContain(c);
      // Probabilities: the head's, renormalised over that stream's classes.
      const head = await model.predictAsync(x);
      const { probabilities } = await classifier.predictAsync(x);
      for (let r = 0; r < test.size; r++) {
        const own = [2 * i, 2 * i + 1].map((c) => head.probabilities[r * 4 + c] ?? 0);
        const total = (own[0] ?? 0) + (own[1] ?? 0);
        for (let c = 0; c < 4; c++) {
          const expected = c === 2 * i || c === 2 * i + 1 ? (own[c - 2 * i] ?? 0) / total : 0;
          expect(probabilities[r * 4 + c]).toBeCloseTo(expected, 5);
        }
      }
      x.dispose();
    }
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'product' scores log p(c) - weight * d_c / scale: the head at a tiny weight, the nearest prototype at a huge one", async () => {
    const before = tf.memory().numTensors;
    const model = tinyModel('class');
    const streams = syntheticStreams('class', 2, 20, 2);
    const prototypes = await projectionPrototypes(model, streams, 3);
    const test = streams[1]?.test;
    if (!test) throw new Error('no test split');
    const x = tf.tensor2d(test.x, [test.size, test.dim]);
    const classify = async (weight: number) =>
      (
        await new PrototypeClassifier(model, prototypes, {
          mode: 'product',
          space: 'projection',
          weight,
          streamClasses: [],
        }).predictAsync(x)
      ).classes;
    const head = await model.predictAsync(x);
    const { distances } = await prototypes.nearest(
      await prototypeFeatures(model, x, 'projection'),
      test.size,
      4,
    );
    const argMin = (row: number) => {
      const d = [...distances.subarray(row * 4, row * 4 + 4)];
      return d.indexOf(Math.min(...d));
    };
    expect([...(await classify(1e-9))]).toEqual([...head.classes]);
    expect([...(await classify(1e9))]).toEqual(Array.from({ length: test.size }, (_, r) => argMin(r)));
    // In between, exactly the formula.
    const mixed = await classify(0.5);
    for (let r = 0; r < test.size; r++) {
      const scores = [0, 1, 2, 3].map(
        (c) =>
          Math.log(head.probabilities[r * 4 + c] ?? 0) -
          (0.5 * (distances[r * 4 + c] ?? 0)) / prototypes.scale,
      );
      expect(mixed[r]).toBe(scores.indexOf(Math.max(...scores)));
    }
    // Probabilities are the normalised product, so the class is their arg-max.
    const corrected = await new PrototypeClassifier(model, prototypes, {
      mode: 'product',
      space: 'projection',
      weight: 0.5,
      streamClasses: [],
    }).predictAsync(x);
    for (let r = 0; r < test.size; r++) {
      const product = [0, 1, 2, 3].map(
        (c) =>
          (head.probabilities[r * 4 + c] ?? 0) *
          Math.exp((-0.5 * (distances[r * 4 + c] ?? 0)) / prototypes.scale),
      );
      const total = product.reduce((a, b) => a + b, 0);
      const row = [...corrected.probabilities.subarray(r * 4, r * 4 + 4)];
      for (const [c, q] of row.entries()) expect(q).toBeCloseTo((product[c] ?? 0) / total, 5);
      expect(corrected.classes[r]).toBe(row.indexOf(Math.max(...row)));
    }
    x.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  it("'product' falls back to the head where no active class has prototypes", async () => {
    const model = tinyModel('class');
    model.setActiveClasses(0, [0, 1]);
    const prototypes = new ClassPrototypes(6, 1);
    prototypes.add(0, Float32Array.from([1, 2, 3, 4, 5, 6]), Int32Array.from([3]), createRandom(0));
    const x = tf.randomNormal([4, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
    const head = await model.predictAsync(x);
    const { classes } = await new PrototypeClassifier(model, prototypes, {
      mode: 'product',
      space: 'input',
      weight: 1,
      streamClasses: [],
    }).predictAsync(x);
    expect([...classes]).toEqual([...head.classes]);
    expect(new Set(head.classes).size).toBe(2); // both classes occur, so a constant answer would fail
    x.dispose();
    model.dispose();
  });
});

describe('ContinualLearner with class prototypes', () => {
  it('freeze-and-grow + labels trick + prototypes keeps old classes reachable where the labels trick alone does not', async () => {
    const streams = syntheticStreams('class', 2, 40, 3);
    const run = async (prototypes: boolean) => {
      const model = tinyModel('class');
      const grow = new FreezeAndGrowPlugin({ rows: 2, seed: 1 });
      const plugins = prototypes
        ? [grow, new ClassPrototypePlugin({ mode: 'task', space: 'projection', perClass: 4 })]
        : [grow];
      const learner = new ContinualLearner(
        model,
        { scenario: 'class', steps: 60, batchSize: 16, probeSize: 4, activeClasses: 'current' },
        { plugins },
      );
      const report = await learner.run(streams);
      learner.dispose();
      model.dispose();
      return report;
    };
    const before = tf.memory().numTensors;
    const withPrototypes = await run(true);
    const without = await run(false);
    const learned = withPrototypes.accuracy[0]?.[0] ?? 0;
    expect(learned).toBeGreaterThan(0.7);
    // Task 0's accuracy survives task 1 (the far-away streams are told apart), where without task inference
    // task 1's untrained-against outputs take over task 0's inputs.
    expect(withPrototypes.accuracy[1]?.[0]).toBeGreaterThan(learned - 0.1);
    expect(withPrototypes.metrics.acc).toBeGreaterThan(without.metrics.acc + 0.15);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'product' in input space needs no frozen projection, runs in domain-IL, and survives a store round trip", async () => {
    const before = tf.memory().numTensors;
    const model = tinyModel('domain');
    const store = new InMemoryContinualStateStore();
    const settings = { mode: 'product', space: 'input', perClass: 3 } as const;
    const plugin = new ClassPrototypePlugin(settings);
    const learner = new ContinualLearner(
      model,
      { scenario: 'domain', steps: 5, batchSize: 8, probeSize: 4, runId: 'r' },
      { plugins: [plugin], store },
    );
    const streams = syntheticStreams('domain');
    const report = await learner.run(streams);
    expect(report.metrics.acc).toBeGreaterThanOrEqual(0);
    expect(report.metrics.acc).toBeLessThanOrEqual(1);
    // 2 streams x 2 labels x 3 centroids, in the 6-dim input space.
    expect(plugin.current?.size).toBe(12);
    expect(plugin.current?.dim).toBe(6);
    // A fresh plugin resuming after the last version (as an API job does) loads exactly these prototypes.
    const resumed = new ClassPrototypePlugin(settings);
    const last = streams[1];
    if (!last) throw new Error('no stream');
    await resumed.beforeStream(contextAfter(model, store, streams, 'r/after-task-1'));
    const a = plugin.current?.snapshot();
    const b = resumed.current?.snapshot();
    expect(b).toEqual(a);
    learner.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a plugin with no saved prototypes to resume from computes those of the earlier streams from their data', async () => {
    const model = tinyModel('domain');
    const settings = { mode: 'product', space: 'input', perClass: 3, weight: 7 } as const;
    const store = new InMemoryContinualStateStore();
    const learned = new ClassPrototypePlugin(settings);
    const streams = syntheticStreams('domain');
    const learner = new ContinualLearner(
      model,
      { scenario: 'domain', steps: 2, batchSize: 8, probeSize: 4, runId: 'r' },
      { plugins: [learned], store },
    );
    await learner.run(streams);
    // Switched on for a lineage that ran without it: the previous version has no saved prototypes.
    const late = new ClassPrototypePlugin(settings);
    await late.beforeStream(
      contextAfter(model, new InMemoryContinualStateStore(), streams, 'r/after-task-1'),
    );
    // Input-space centroids depend on the data only, and the sample and seeds are per stream position, so
    // the backfill equals what the plugin computed while the streams ran.
    expect(late.current?.snapshot()).toEqual(learned.current?.snapshot());
    // What it saves carries how to use it: a server restores the same prototypes and settings.
    const saved = await store.loadRegularization('r/after-task-1', PROTOTYPE_STATE_METHOD);
    if (!saved) throw new Error('nothing saved');
    const restored = restorePrototypes(saved);
    expect(restored.settings).toEqual({ mode: 'product', space: 'input', weight: 7 });
    expect(restored.prototypes.snapshot()).toEqual(learned.current?.snapshot());
    expect(restored.streamClasses).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(() => restorePrototypes({ ...saved, anchors: [] })).toThrow(/centroids/);
    expect(() => restorePrototypes({ ...saved, meta: { ...saved.meta, space: 'pixels' } })).toThrow(
      /space 'pixels'/,
    );
    learner.dispose();
    model.dispose();
  });

  it('rejects prototype settings that cannot work, naming the field', async () => {
    const models: PeerClassifier[] = [];
    const run = (scenario: Scenario, options: ClassPrototypeOptionsInput) => {
      const model = tinyModel(scenario);
      models.push(model);
      return new ContinualLearner(
        model,
        { scenario, steps: 2, batchSize: 8, probeSize: 4 },
        { plugins: [new ClassPrototypePlugin(options)] },
      ).run(syntheticStreams(scenario));
    };
    // Nothing freezes the input projection, so projection-space prototypes would drift.
    await expect(run('class', { space: 'projection' })).rejects.toThrow(/class-prototypes\.space/);
    await expect(run('task', { space: 'input' })).rejects.toThrow(/plugins\.class-prototypes/);
    await expect(run('domain', { mode: 'task', space: 'input' })).rejects.toThrow(/class-prototypes\.mode/);
    expect(() => new ClassPrototypePlugin({ perClass: 0 })).toThrow(PeerConfigError);
    for (const m of models) m.dispose();
  });
});

/** The context of a stream that follows version `previousVersionKey` (what an API job hands its plugins). */
function contextAfter(
  model: PeerClassifier,
  store: InMemoryContinualStateStore,
  streams: ContinualStream[],
  previousVersionKey: string,
): StreamContext {
  const stream = streams[streams.length - 1] as ContinualStream;
  return {
    model,
    scenario: 'domain',
    streamIndex: streams.length,
    stream,
    streams,
    store,
    previousVersionKey,
    pastVersionKeys: [previousVersionKey],
    versionKey: 'r/next',
    headOf: () => 0,
  };
}
