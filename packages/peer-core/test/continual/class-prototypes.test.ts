import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { ClassPrototypes, PrototypeTaskClassifier } from '../../src/continual/class-prototypes.js';
import { ContinualLearner } from '../../src/continual/continual-learner.js';
import { FreezeAndGrowPlugin } from '../../src/continual/freeze-and-grow.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { createRandom } from '../../src/util/random.js';
import { syntheticStreams, tinyModel } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('ClassPrototypes', () => {
  it('keeps per-class centroids (one centroid = the class mean) and names the stream of the nearest one', () => {
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
    const queries = Float32Array.from([1, 1, 0, 7, 9, 9, 6, 5]);
    // (6, 5): 25 + 25 = 50 to class 0's mean, 36 + 16 = 52 to class 1's, 25 + 36 = 61 to class 2's.
    expect([0, 1, 2, 3].map((row) => prototypes.nearestStream(queries, row))).toEqual([0, 0, 1, 0]);
  });

  it('caps the centroids of a class at its member count, and is empty until something is added', () => {
    const prototypes = new ClassPrototypes(1, 4);
    expect(prototypes.nearestStream(Float32Array.from([0]), 0)).toBe(-1);
    prototypes.add(3, Float32Array.from([1, 2]), Int32Array.from([5, 5]), createRandom(0));
    expect(prototypes.centroidsOf(5).length).toBe(2);
    expect(prototypes.nearestStream(Float32Array.from([1.9]), 0)).toBe(3);
  });

  it('rejects bad settings and mismatched features with typed errors', () => {
    expect(() => new ClassPrototypes(2, 0)).toThrow(PeerConfigError);
    const prototypes = new ClassPrototypes(2, 1);
    expect(() => prototypes.add(0, new Float32Array(3), Int32Array.from([0, 1]), createRandom(0))).toThrow(
      /features/,
    );
  });
});

describe('class-IL task inference from prototypes', () => {
  it('answers among the classes of the stream whose prototype is nearest, whatever the head prefers', async () => {
    const before = tf.memory().numTensors;
    const model = tinyModel('class'); // 4 classes, untrained head
    const streams = syntheticStreams('class', 2, 20, 6); // task 1 shifted far from task 0
    const prototypes = new ClassPrototypes(model.config.dModel, 2);
    const classifier = new PrototypeTaskClassifier(model, prototypes, [
      [0, 1],
      [2, 3],
    ]);
    for (const [i, s] of streams.entries()) {
      const x = tf.tensor2d(s.train.x, [s.train.size, s.train.dim]);
      const h = tf.tidy(() => model.input.apply(x));
      prototypes.add(i, Float32Array.from(await h.data()), s.train.y, createRandom(i));
      tf.dispose([x, h]);
    }
    for (const [i, s] of streams.entries()) {
      const test = s.test;
      if (!test) throw new Error('no test split');
      const x = tf.tensor2d(test.x, [test.size, test.dim]);
      const { classes } = await classifier.predictAsync(x);
      // The streams are far apart, so every input's answer comes from its own stream's two classes.
      for (const c of classes) expect([2 * i, 2 * i + 1]).toContain(c);
      x.dispose();
    }
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('freeze-and-grow + labels trick + prototypes keeps old classes reachable where the labels trick alone does not', async () => {
    const streams = syntheticStreams('class', 2, 40, 3);
    const run = async (taskInference: 'none' | 'prototypes') => {
      const model = tinyModel('class');
      const learner = new ContinualLearner(
        model,
        {
          scenario: 'class',
          steps: 60,
          batchSize: 16,
          probeSize: 4,
          activeClasses: 'current',
          taskInference,
          prototypesPerClass: 4,
        },
        { plugins: [new FreezeAndGrowPlugin({ rows: 2, seed: 1 })] },
      );
      const report = await learner.run(streams);
      learner.dispose();
      model.dispose();
      return report;
    };
    const before = tf.memory().numTensors;
    const withPrototypes = await run('prototypes');
    const without = await run('none');
    const learned = withPrototypes.accuracy[0]?.[0] ?? 0;
    expect(learned).toBeGreaterThan(0.7);
    // Task 0's accuracy survives task 1 (the far-away streams are told apart), where without task inference
    // task 1's untrained-against outputs take over task 0's inputs.
    expect(withPrototypes.accuracy[1]?.[0]).toBeGreaterThan(learned - 0.1);
    expect(withPrototypes.metrics.acc).toBeGreaterThan(without.metrics.acc + 0.15);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects 'prototypes' when nothing freezes the input projection, naming the field", async () => {
    const model = tinyModel('class');
    const learner = new ContinualLearner(model, {
      scenario: 'class',
      steps: 2,
      batchSize: 8,
      probeSize: 4,
      taskInference: 'prototypes',
    });
    await expect(learner.run(syntheticStreams('class'))).rejects.toThrow(/taskInference/);
    model.dispose();
  });
});
