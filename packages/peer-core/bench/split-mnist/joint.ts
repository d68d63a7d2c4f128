import * as tf from '@tensorflow/tfjs';
import { batchLoss } from '../../src/continual/batch-loss.js';
import { type Batch, type ContinualStream, headOf, type Scenario } from '../../src/continual/scenario.js';
import type { PeerClassifier } from '../../src/models/classifier.js';
import { BatchSampler } from '../../src/train/batches.js';
import { evaluateAccuracy } from '../../src/train/evaluate.js';
import { Trainer } from '../../src/train/trainer.js';

/** Every stream's training rows as one pool: row r of the pool is (stream, row within it). */
interface Pool {
  readonly stream: Int32Array;
  readonly row: Int32Array;
}

function poolOf(streams: readonly ContinualStream[]): Pool {
  const total = streams.reduce((n, s) => n + s.train.size, 0);
  const stream = new Int32Array(total);
  const row = new Int32Array(total);
  let at = 0;
  streams.forEach((s, i) => {
    for (let r = 0; r < s.train.size; r++, at++) {
      stream[at] = i;
      row[at] = r;
    }
  });
  return { stream, row };
}

/** The pool rows `indices` as one batch, each example tagged with its own task (its head in task-IL). */
function jointBatch(streams: readonly ContinualStream[], pool: Pool, indices: Int32Array): Batch {
  const dim = streams[0]?.train.dim ?? 0;
  const x = new Float32Array(indices.length * dim);
  const y = new Int32Array(indices.length);
  const task = new Int32Array(indices.length);
  indices.forEach((p, i) => {
    const s = streams[pool.stream[p] ?? 0];
    const r = pool.row[p] ?? 0;
    if (!s) return;
    x.set(s.train.x.subarray(r * dim, (r + 1) * dim), i * dim);
    y[i] = s.train.y[r] ?? 0;
    task[i] = s.task;
  });
  return { x, y, task, size: indices.length, dim };
}

/**
 * Joint training, the upper bound of van de Ven & Tolias (2019): one model trained on every task's data at
 * once (uniform mini-batches over the union, each example scored by its task's head in task-IL) for the same
 * total number of iterations as the sequential methods. Returns the accuracy on each stream's evaluation set.
 */
export async function trainJoint(
  model: PeerClassifier,
  streams: readonly ContinualStream[],
  options: { scenario: Scenario; steps: number; batchSize: number; learningRate: number; seed: number },
): Promise<number[]> {
  const pool = poolOf(streams);
  const sampler = new BatchSampler(pool.stream.length, options.seed);
  const head = (task: number) => headOf(options.scenario, task);
  const trainer = new Trainer(model, { learningRate: options.learningRate });
  try {
    await trainer.fit({
      steps: options.steps,
      batchSize: options.batchSize,
      loss: () => batchLoss(model, jointBatch(streams, pool, sampler.next(options.batchSize)), head, true),
    });
  } finally {
    trainer.dispose();
  }
  const accuracies: number[] = [];
  for (const s of streams) {
    if (!s.test) continue;
    const x = tf.tensor2d(s.test.x, [s.test.size, s.test.dim]);
    try {
      accuracies.push((await evaluateAccuracy(model, x, s.test.y, { task: head(s.task) })).accuracy);
    } finally {
      x.dispose();
    }
  }
  return accuracies;
}
