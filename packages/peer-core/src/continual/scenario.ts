import type { LabeledData } from '../data/labeled-data.js';

/**
 * The three continual-learning scenarios of van de Ven & Tolias (2019): task-incremental (task id given at
 * test time: one head per task), domain-incremental (one head shared by all tasks, same label space) and
 * class-incremental (one head over every class seen so far, task id not given).
 */
export type Scenario = 'task' | 'domain' | 'class';

/** The head a scenario uses for a task: its own in task-IL, the shared head 0 otherwise. */
export function headOf(scenario: Scenario, task: number): number {
  return scenario === 'task' ? task : 0;
}

/** One stream (experience, task) of a continual run. Labels are already in the scenario's label space. */
export interface ContinualStream {
  /** Stable id: keys replay snapshots and names adapters. */
  readonly id: string;
  /** Task index (selects the head in task-IL). */
  readonly task: number;
  readonly train: LabeledData;
  /** Held-out data for the accuracy matrix; without it the stream has no column in R. */
  readonly test?: LabeledData;
}

/** A mini-batch as plain arrays; `task` per example, since replay mixes tasks in one batch. */
export interface Batch {
  /** Row-major [size, dim]. */
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly task: Int32Array;
  readonly size: number;
  readonly dim: number;
  /**
   * Per-example loss weights summing to 1 (replay's task weighting); absent means the plain per-example mean.
   */
  readonly weight?: Float32Array;
}

/** Rows `indices` of a stream's training data as a batch of its task. */
export function batchOf(data: LabeledData, task: number, indices: ArrayLike<number>): Batch {
  const n = indices.length;
  const x = new Float32Array(n * data.dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = indices[i] ?? 0;
    x.set(data.x.subarray(r * data.dim, (r + 1) * data.dim), i * data.dim);
    y[i] = data.y[r] ?? 0;
  }
  return { x, y, task: new Int32Array(n).fill(task), size: n, dim: data.dim };
}

/**
 * Two batches as one (replay appends its examples to the stream's). Weights, if given, are the merged batch's
 * per-example weights ([a.size + b.size], summing to 1); the parts' own weights are dropped.
 */
export function concatBatches(a: Batch, b: Batch, weight?: Float32Array): Batch {
  const x = new Float32Array((a.size + b.size) * a.dim);
  x.set(a.x);
  x.set(b.x, a.size * a.dim);
  const y = new Int32Array(a.size + b.size);
  y.set(a.y);
  y.set(b.y, a.size);
  const task = new Int32Array(a.size + b.size);
  task.set(a.task);
  task.set(b.task, a.size);
  const size = a.size + b.size;
  return { x, y, task, size, dim: a.dim, ...(weight ? { weight } : {}) };
}
