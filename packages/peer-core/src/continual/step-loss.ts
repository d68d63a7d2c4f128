import type * as tf from '@tensorflow/tfjs';
import type { PeerClassifier } from '../models/classifier.js';
import { batchLoss } from './batch-loss.js';
import type { ContinualPlugin, StreamContext } from './plugin.js';
import type { Batch } from './scenario.js';
import { StepForward } from './step-forward.js';

/**
 * The loss of one continual-learning training step: the batch through every plugin's `batchTransform`, its
 * (weighted) cross-entropy under each example's head, plus every plugin's penalty, on one shared forward.
 * Runs inside the trainer's step tidy (`Trainer.fit`'s `loss`).
 */
export function stepLoss(
  model: PeerClassifier,
  ctx: StreamContext,
  plugins: readonly ContinualPlugin[],
  batch: Batch,
): tf.Scalar {
  let transformed = batch;
  for (const p of plugins) transformed = p.batchTransform?.(transformed, ctx) ?? transformed;
  const forward = new StepForward(model, transformed, true);
  let loss = batchLoss(model, transformed, ctx.headOf, true, forward);
  for (const p of plugins) {
    const extra = p.penalty?.(ctx, forward);
    if (extra) loss = loss.add(extra);
  }
  return loss;
}
