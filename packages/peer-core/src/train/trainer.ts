import * as tf from '@tensorflow/tfjs';
import { PeerError } from '../errors/peer-error.js';
import { defaultNativeAddon } from '../kernels/default-kernels.js';
import type { PeerLayer } from '../layer/peer-layer.js';
import { DenseAdam, type VariableAdam } from './dense-adam.js';
import { SparseExpertAdam } from './sparse-expert-adam.js';
import { TfjsAdam } from './tfjs-adam.js';
import { parseTrainerConfig, type TrainerConfig, type TrainerConfigInput } from './trainer-config.js';

/** What the trainer needs from a model: its tfjs variables and its PEER layers (whose experts it steps). */
export interface TrainableModel {
  trainableVariables(): tf.Variable[];
  peerLayers(): readonly PeerLayer[];
}

/** One `onProgress` report. `loss` is the mean over the steps since the previous report. */
export interface TrainProgress {
  readonly step: number;
  readonly loss: number;
  readonly examplesPerSec: number;
  readonly stepsPerSec: number;
  readonly elapsedMs: number;
}

/** What {@link Trainer.fit} runs: how long, on which loss, reporting to whom. */
export interface FitOptions {
  /** Most steps to run. */
  readonly steps: number;
  /** Examples per step, for the throughput figures. */
  readonly batchSize: number;
  /** Loss of step `step` (sample a batch, run the model in training mode); runs inside the step's tidy. */
  readonly loss: (step: number) => tf.Scalar;
  /** Stop once this much wall time has passed (ms), even if `steps` are not done. */
  readonly timeLimitMs?: number;
  /** Called every `progressEvery` steps and after the last step. */
  readonly onProgress?: (progress: TrainProgress) => void;
  /** Stops training between steps when aborted (a cancelled job). */
  readonly signal?: AbortSignal;
}

/** What a {@link Trainer.fit} run did. */
export interface TrainHistory {
  readonly steps: number;
  /** Loss of every step, in nats. */
  readonly losses: Float32Array;
  readonly elapsedMs: number;
  readonly stepsPerSec: number;
  readonly examplesPerSec: number;
}

/**
 * Adam on a model: for its tfjs variables {@link DenseAdam} (native kernels) or {@link TfjsAdam} (without them),
 * for the expert tables of every PEER layer {@link SparseExpertAdam}, same learning rate. Each step runs in
 * `tf.tidy`; with `checkLeaks` a step that leaves tensors behind throws.
 *
 * Moments are kept per variable, never by position in the gradient map (as tfjs's AdamOptimizer does), so a
 * variable set that changes between steps (a task head used only for its task, a block frozen after growth)
 * cannot mix moments of different variables; each variable also has its own bias-correction count, like
 * PyTorch's per-parameter `step`.
 *
 * @example
 * const trainer = new Trainer(model, { learningRate: 3e-3 });
 * const history = await trainer.fit({ steps: 300, batchSize: 64, loss: classifierObjective(model, train) });
 */
export class Trainer {
  readonly config: TrainerConfig;
  private readonly adam: VariableAdam;
  private readonly sparse = new Map<PeerLayer, SparseExpertAdam>();
  private stepCount = 0;

  constructor(
    readonly model: TrainableModel,
    config: TrainerConfigInput = {},
  ) {
    this.config = parseTrainerConfig(config);
    const { learningRate, beta1, beta2, epsilon } = this.config;
    const adam = { learningRate, beta1, beta2, epsilon };
    const addon = tf.getBackend() === 'tensorflow' ? undefined : defaultNativeAddon();
    this.adam = addon ? new DenseAdam(adam, addon) : new TfjsAdam(adam);
  }

  /** Which Adam steps the tfjs variables: the native fused pass or tfjs's optimizer. */
  get denseAdam(): 'native' | 'tfjs' {
    return this.adam instanceof DenseAdam ? 'native' : 'tfjs';
  }

  /** Steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /**
   * One optimisation step on the loss `lossFn` builds. Returns the loss (kept: the caller disposes it).
   * Frozen variables (`trainable = false`) and experts below `frozenExperts` are left untouched.
   */
  step(lossFn: () => tf.Scalar): tf.Scalar {
    const variables = this.model.trainableVariables();
    if (variables.length === 0) {
      throw new PeerError('nothing_to_train', 'the model has no trainable variables (all frozen?)');
    }
    const layers = this.model.peerLayers();
    // Expert gradients left by a backward outside the trainer (a training-mode `tf.grad` for analysis) would
    // otherwise be applied with this step's: start every step from an empty sink.
    for (const layer of layers) layer.gradients.drain();
    const before = tf.memory().numTensors;
    // A variable's first step may create lasting state (caches derived from it), so only later steps are checked.
    let newState = false;
    let loss: tf.Scalar;
    try {
      loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(lossFn, variables);
        for (const v of variables) {
          const grad = grads[v.name];
          if (!grad) continue; // not on this loss's path (another task's head)
          newState = !this.adam.has(v) || newState;
          this.adam.apply(v, grad);
        }
        for (const layer of layers) this.sparseFor(layer).step();
        return value;
      });
    } catch (error) {
      // Expert gradients of a failed step must not leak into the next one.
      for (const layer of layers) layer.gradients.drain();
      throw error;
    }
    this.stepCount++;
    const leaked = tf.memory().numTensors - before - 1;
    if (this.config.checkLeaks && !newState && leaked !== 0) {
      loss.dispose();
      throw new PeerError(
        'tensor_leak',
        `training step ${this.stepCount} changed the tensor count by ${leaked}`,
      );
    }
    return loss;
  }

  /**
   * Runs up to `steps` steps (or until `timeLimitMs`), yielding to the event loop after each, and reports
   * progress. Losses are read asynchronously.
   */
  async fit(options: FitOptions): Promise<TrainHistory> {
    const every = this.config.progressEvery;
    const losses: number[] = [];
    const start = performance.now();
    let windowStart = start;
    let windowLoss = 0;
    let windowSteps = 0;
    for (let i = 0; i < options.steps; i++) {
      if (options.signal?.aborted) break;
      if (options.timeLimitMs !== undefined && performance.now() - start >= options.timeLimitMs) break;
      const step = this.stepCount;
      const loss = this.step(() => options.loss(step));
      const [value = Number.NaN] = await loss.data();
      loss.dispose();
      losses.push(value);
      windowLoss += value;
      windowSteps++;
      const last = i === options.steps - 1;
      if (options.onProgress && (windowSteps === every || last)) {
        const now = performance.now();
        const seconds = (now - windowStart) / 1000;
        options.onProgress({
          step: this.stepCount,
          loss: windowLoss / windowSteps,
          examplesPerSec: (windowSteps * options.batchSize) / seconds,
          stepsPerSec: windowSteps / seconds,
          elapsedMs: now - start,
        });
        windowStart = now;
        windowLoss = 0;
        windowSteps = 0;
      }
      // Let timers and I/O run between steps (STYLE: never block the event loop with a long loop).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const elapsedMs = performance.now() - start;
    const seconds = Math.max(elapsedMs, 1e-9) / 1000;
    return {
      steps: losses.length,
      losses: Float32Array.from(losses),
      elapsedMs,
      stepsPerSec: losses.length / seconds,
      examplesPerSec: (losses.length * options.batchSize) / seconds,
    };
  }

  /** Frees the optimizer state (moments); the model is not touched. */
  dispose(): void {
    this.adam.clear();
    this.sparse.clear();
  }

  private sparseFor(layer: PeerLayer): SparseExpertAdam {
    let opt = this.sparse.get(layer);
    if (!opt) {
      const { learningRate, beta1, beta2, epsilon } = this.config;
      opt = new SparseExpertAdam(layer, { learningRate, beta1, beta2, epsilon });
      this.sparse.set(layer, opt);
    }
    return opt;
  }
}
