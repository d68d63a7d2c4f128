import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.js';
import { ContinualLearner } from '../../src/continual/continual-learner.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import { readTensorSync } from '../../src/util/read-tensor.js';
import { syntheticStreams, tinyModel } from './helpers.js';

beforeAll(async () => {
  await initBackend({ backend: (process.env.PEER_TEST_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'wasm' });
});

describe('active classes (class-IL output masking)', () => {
  it('gives inactive classes no probability and no gradient; null restores every class', () => {
    const model = tinyModel('class'); // 4 classes, one head
    const x = tf.randomNormal([5, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
    model.setActiveClasses(0, [0, 1]);
    const probs = readTensorSync(tf.tidy(() => tf.softmax(model.logits(x))));
    for (let r = 0; r < 5; r++) {
      expect(probs[r * 4 + 2]).toBe(0);
      expect(probs[r * 4 + 3]).toBe(0);
      expect((probs[r * 4] ?? 0) + (probs[r * 4 + 1] ?? 0)).toBeCloseTo(1, 5);
    }
    const head = model.heads[0];
    if (!head) throw new Error('no head');
    const grad = tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => model.loss(x, Int32Array.from([0, 1, 0, 1, 1])),
        [head.weight],
      );
      return tf.keep(grads[head.weight.name] as tf.Tensor);
    });
    const g = readTensorSync(grad); // [d, 4]: columns 2 and 3 untouched
    for (let i = 0; i < g.length; i += 4) expect([g[i + 2], g[i + 3]]).toEqual([0, 0]);
    expect(g.some((v) => v !== 0)).toBe(true);
    model.setActiveClasses(0, null);
    const all = readTensorSync(tf.tidy(() => tf.softmax(model.logits(x))));
    expect(all.every((p) => p > 0)).toBe(true);
    expect(() => model.setActiveClasses(0, [4])).toThrow(PeerConfigError);
    tf.dispose([x, grad]);
    model.dispose();
  });

  it("'seen' in class-IL trains and scores only the classes seen so far; masks are freed with the model", async () => {
    const before = tf.memory().numTensors;
    const model = tinyModel('class');
    const head = model.heads[0];
    if (!head) throw new Error('no head');
    const initial = Float32Array.from(readTensorSync(head.weight)); // a copy: the view dies with the next op
    const learner = new ContinualLearner(model, {
      scenario: 'class',
      steps: 3,
      batchSize: 8,
      probeSize: 4,
      activeClasses: 'seen',
    });
    const streams = syntheticStreams('class');
    const first = await learner.run(streams.slice(0, 1));
    // After task 0 only classes 0 and 1 are active: task 1's test inputs (classes 2, 3) are never predicted.
    expect(first.accuracy[0]?.[0]).toBeGreaterThan(0);
    const w = readTensorSync(head.weight); // [d, 4]
    for (let i = 0; i < w.length; i += 4)
      expect([w[i + 2], w[i + 3]]).toEqual([initial[i + 2], initial[i + 3]]);
    const full = await new ContinualLearner(model, {
      scenario: 'class',
      steps: 3,
      batchSize: 8,
      probeSize: 4,
      activeClasses: 'seen',
    }).run(streams);
    expect(full.accuracy[0]?.[1]).toBe(0);
    learner.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("'current' (labels trick) leaves old classes' outputs untrained on a new task and scores over all seen", async () => {
    const model = tinyModel('class');
    const head = model.heads[0];
    if (!head) throw new Error('no head');
    let afterFirst = new Float32Array();
    const learner = new ContinualLearner(model, {
      scenario: 'class',
      steps: 3,
      batchSize: 8,
      probeSize: 4,
      activeClasses: 'current',
    });
    const report = await learner.run(syntheticStreams('class'), {
      onStream: (r) => {
        if (r.id === 'task-0') afterFirst = Float32Array.from(readTensorSync(head.weight));
      },
    });
    const w = readTensorSync(head.weight); // [d, 4]: columns 0, 1 (task 0's classes) untouched by task 1
    for (let i = 0; i < w.length; i += 4)
      expect([w[i], w[i + 1]]).toEqual([afterFirst[i], afterFirst[i + 1]]);
    // Evaluation after task 1 is over classes 0..3, so task 0's inputs can still be classified correctly.
    expect(report.accuracy[1]?.[0]).toBeGreaterThan(0);
    learner.dispose();
    model.dispose();
  });
});
