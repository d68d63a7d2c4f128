// The messages between a job runner and its training thread: plain data only (structured clone), with the
// large typed arrays transferred rather than copied.
import type { ClassifierManifest, LabeledData, RegularizationState, Scenario, TensorBlock } from '@peer/core';
import type { TrainSpec } from './train-spec.js';

/** One stream as the trainer sees it: its task, training rows and held-out rows (never trained on). */
export interface TaskStream {
  readonly name: string;
  readonly task: number;
  /** Rows to learn from (the current stream), or a stand-in for a past stream (its replay sample). */
  readonly train: LabeledData;
  /** Held-out rows (`isHeldOut(offset)`: about one in ten) the accuracy matrix is measured on. */
  readonly heldOut: LabeledData;
}

/** Regularization state saved by an earlier job, by the key of the version it belongs to. */
export interface StoredRegularization {
  readonly key: string;
  readonly method: string;
  readonly state: RegularizationState;
}

/** Everything one training run needs; the thread has no store access. */
export interface TrainTaskInput {
  readonly jobId: string;
  readonly kind: 'train' | 'train-adapter';
  readonly spec: TrainSpec;
  readonly manifest: ClassifierManifest;
  /** Every block of the parent version. */
  readonly blocks: TensorBlock[];
  readonly scenario: Scenario;
  /** The stream of each earlier training version of the lineage, oldest first (a stream may repeat). */
  readonly history: TaskStream[];
  /** Regularization keys of those versions, in the same order (`job:<id>` of the job that made each). */
  readonly historyKeys: string[];
  readonly current: TaskStream;
  /** Replay examples of earlier streams (held-out rows and unacknowledged batches removed). */
  readonly replay: {
    readonly x: Float32Array;
    readonly y: Int32Array;
    readonly task: Int32Array;
    readonly dim: number;
  };
  readonly regularization: StoredRegularization[];
}

/** Expert-usage counts of one PEER layer over the sub-key grid (row-major), binned when the grid is large. */
export interface UsageGrid {
  readonly rows: number;
  readonly cols: number;
  readonly counts: number[];
  /** Sub-key rows summed into one bin (present only when binned). */
  readonly binRows?: number;
  /** Sub-key columns summed into one bin (present only when binned). */
  readonly binCols?: number;
}

/** Metrics of a model-training run (the job runner adds the lineage's continual summary). */
export interface TrainRunMetrics {
  readonly steps: number;
  readonly meanLoss: number;
  readonly finalLoss: number;
  readonly elapsedMs: number;
  readonly experts: number[];
  readonly rowsAdded: Record<string, [number, number]>;
  /** Held-out accuracy on every distinct stream of the lineage, this one included. */
  readonly accuracy: Record<string, number>;
  readonly usage: Record<string, UsageGrid>;
  readonly strategies: { name: string; settings: Record<string, string | number | boolean | null> }[];
}

/** Result of a model-training run: the new manifest and only the blocks that differ from the parent. */
export interface TrainModelOutput {
  readonly kind: 'train';
  readonly manifest: ClassifierManifest;
  readonly changed: TensorBlock[];
  readonly metrics: TrainRunMetrics;
  /** State the regularizers saved for the new version (key `job:<id>`). */
  readonly regularization: StoredRegularization[];
  /** Tensors alive in the thread before and after the run (equal unless something leaked). */
  readonly tensors: { readonly before: number; readonly after: number };
}

/** Result of an adapter-training run: the LoRA factors of the `input` module and the retrieval key. */
export interface TrainAdapterOutput {
  readonly kind: 'train-adapter';
  readonly targetLayer: string;
  readonly rank: number;
  readonly alpha: number;
  readonly dIn: number;
  readonly dOut: number;
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly retrievalKey: Float32Array;
  readonly metrics: {
    readonly steps: number;
    readonly meanLoss: number;
    readonly finalLoss: number;
    readonly elapsedMs: number;
    readonly accuracy: Record<string, number>;
    readonly baseAccuracy: Record<string, number>;
  };
  readonly tensors: { readonly before: number; readonly after: number };
}

export type TrainTaskOutput = TrainModelOutput | TrainAdapterOutput;

/** How a run reports and is stopped. */
export interface TrainTaskOptions {
  readonly onProgress?: (progress: TrainProgressEvent) => void;
  /** Aborting stops training between steps; the run then throws `TaskCancelledError`. */
  readonly signal?: AbortSignal;
}

/** One progress report (about every 2% of the iterations). */
export interface TrainProgressEvent {
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly elapsedMs: number;
}

/** An error as it crosses the thread boundary (classes do not survive structured clone). */
export interface TaskErrorData {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
  readonly bound?: string;
  readonly value?: unknown;
}

/** Runner → thread. */
export type ToThread =
  | { readonly type: 'run'; readonly id: number; readonly input: TrainTaskInput }
  | { readonly type: 'cancel'; readonly id: number };

/** Thread → runner. */
export type FromThread =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly id: number; readonly progress: TrainProgressEvent }
  | { readonly type: 'result'; readonly id: number; readonly output: TrainTaskOutput }
  | { readonly type: 'error'; readonly id: number; readonly error: TaskErrorData };
