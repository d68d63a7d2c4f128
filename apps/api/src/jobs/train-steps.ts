import {
  BatchSampler,
  batchOf,
  type ContinualPlugin,
  type PeerClassifier,
  type StreamContext,
  stepLoss,
  Trainer,
  type TrainHistory,
  type TrainProgress,
} from '@peer/core';
import { TaskCancelledError } from './task-errors.js';
import type { TrainSpec } from './train-spec.js';
import type { TrainTaskOptions } from './train-task-types.js';

/** Progress reports per run: one every ~2% of the iterations. */
const PROGRESS_REPORTS = 50;

/** Trainer steps between progress reports for a spec. */
export function progressEvery(spec: TrainSpec): number {
  return Math.max(1, Math.round(spec.iterations / PROGRESS_REPORTS));
}

/** The `Trainer.fit` settings every job loop shares: steps, batch size, cancel signal, progress reports. */
export function fitSettings(spec: TrainSpec, options: TrainTaskOptions) {
  return {
    steps: spec.iterations,
    batchSize: spec.batchSize,
    ...(options.signal ? { signal: options.signal } : {}),
    onProgress: (p: TrainProgress) =>
      options.onProgress?.({
        step: p.step,
        steps: spec.iterations,
        loss: p.loss,
        elapsedMs: Math.round(p.elapsedMs),
      }),
  };
}

/**
 * The optimisation loop of one stream, as the core's `ContinualLearner` runs it (batches through the plugins'
 * `batchTransform`, their penalties added to the loss, a fresh Adam per stream), with progress reports and a
 * cancel check between steps. Throws `TaskCancelledError` when the signal aborted.
 */
export async function trainSteps(
  model: PeerClassifier,
  ctx: StreamContext,
  plugins: readonly ContinualPlugin[],
  spec: TrainSpec,
  options: TrainTaskOptions,
): Promise<TrainHistory> {
  const { train, task } = ctx.stream;
  const trainer = new Trainer(model, {
    learningRate: spec.learningRate,
    progressEvery: progressEvery(spec),
  });
  const sampler = new BatchSampler(train.size, spec.seed + ctx.streamIndex);
  try {
    const history = await trainer.fit({
      ...fitSettings(spec, options),
      loss: () => stepLoss(model, ctx, plugins, batchOf(train, task, sampler.next(spec.batchSize))),
    });
    if (options.signal?.aborted) throw new TaskCancelledError();
    return history;
  } finally {
    trainer.dispose();
  }
}
