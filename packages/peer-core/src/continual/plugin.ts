import type * as tf from '@tensorflow/tfjs';
import type { PeerClassifier } from '../models/classifier.js';
import type { AsyncClassifier } from '../train/evaluate.js';
import type { Batch, ContinualStream, Scenario } from './scenario.js';
import type { ContinualStateStore, JsonPrimitive } from './state-store.js';

/** What a strategy reports about itself: its name and the settings it runs with. */
export interface PluginDescription {
  readonly name: string;
  readonly settings: Readonly<Record<string, JsonPrimitive>>;
}

/** Everything a plugin sees at a lifecycle point of one stream. */
export interface StreamContext {
  readonly model: PeerClassifier;
  readonly scenario: Scenario;
  /** Position of the current stream in the run (0 for the first). */
  readonly streamIndex: number;
  readonly stream: ContinualStream;
  /** Every stream of the run, in order (those before `streamIndex` are done). */
  readonly streams: readonly ContinualStream[];
  readonly store: ContinualStateStore;
  /** Key of the model version this stream starts from (undefined for the first stream). */
  readonly previousVersionKey: string | undefined;
  /** Keys of the versions produced by every finished stream, in order. */
  readonly pastVersionKeys: readonly string[];
  /** Key of the version this stream produces. */
  readonly versionKey: string;
  /** The head used for a task in this scenario. */
  headOf(task: number): number;
}

/** A training batch as tensors (inside the step's tidy), with its plain-array source. */
export interface BatchTensors {
  readonly batch: Batch;
  readonly x: tf.Tensor2D;
  /**
   * Training-mode logits [batch.size, classes] of every row under `head`: the step's own forward, shared
   * with the loss, so a penalty on the student's outputs (LwF) costs no second forward and backward.
   */
  logits(head: number): tf.Tensor2D;
}

/**
 * A continual-learning strategy as a plugin with lifecycle hooks, after Avalanche's `SupervisedPlugin`
 * (before/after each experience). Hooks run in plugin order. `penalty` runs inside the training step's
 * tape: its scalar is added to the loss, so it must be differentiable in the model's variables.
 */
export interface ContinualPlugin {
  readonly name: string;
  describe(): PluginDescription;
  /** Before training on a stream (growth, freezing, loading anchors or a teacher). */
  beforeStream?(ctx: StreamContext): Promise<void> | void;
  /** Rewrites each training batch (replay appends stored examples). */
  batchTransform?(batch: Batch, ctx: StreamContext): Batch;
  /** A term added to the loss of each step, or null. */
  penalty?(ctx: StreamContext, batch: BatchTensors): tf.Scalar | null;
  /** After training on a stream (Fisher, anchors, buffer update, persistence). */
  afterStream?(ctx: StreamContext): Promise<void> | void;
  /**
   * How the model predicts after this strategy's `afterStream` (used for the evaluation that follows it); the
   * last plugin offering one is used, the model itself when none does.
   */
  predictor?(ctx: StreamContext): AsyncClassifier | undefined;
  /** Frees tensors the plugin holds. */
  dispose?(): void;
}
