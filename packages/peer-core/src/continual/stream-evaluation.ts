import * as tf from '@tensorflow/tfjs';
import { captureRetrievals } from '../eval/routing-stability.js';
import type { PeerRetrieval } from '../layer/peer-layer.js';
import { ExpertUsage, type ExpertUsageStats } from '../metrics/expert-usage.js';
import type { PeerClassifier } from '../models/classifier.js';
import { type AsyncClassifier, evaluateAccuracy } from '../train/evaluate.js';
import type { ContinualStream } from './scenario.js';

/** How the learner evaluates: which head scores a task, chunk size, routing probe size. */
export interface StreamEvaluationOptions {
  readonly head: (task: number) => number;
  readonly batchSize: number;
  readonly probeSize: number;
  /** What predicts during evaluation (default: the model itself). */
  readonly classifier?: AsyncClassifier;
}

/**
 * Accuracy on every stream's test set (NaN without one): a row of the accuracy matrix. Expert usage per PEER
 * layer is accumulated over the streams up to index `seenUpTo` (those the model has been trained on).
 */
export async function evaluateStreams(
  model: PeerClassifier,
  streams: readonly ContinualStream[],
  options: StreamEvaluationOptions & { readonly seenUpTo: number },
): Promise<{ accuracies: number[]; usage: ExpertUsageStats[] }> {
  const usage = model.peerLayers().map((l) => new ExpertUsage(l.numExperts));
  const accuracies: number[] = [];
  for (const [j, s] of streams.entries()) {
    if (!s.test) {
      accuracies.push(Number.NaN);
      continue;
    }
    const x = tf.tensor2d(s.test.x, [s.test.size, s.test.dim]);
    try {
      const r = await evaluateAccuracy(options.classifier ?? model, x, s.test.y, {
        task: options.head(s.task),
        batchSize: options.batchSize,
        ...(j <= options.seenUpTo ? { usage } : {}),
      });
      accuracies.push(r.accuracy);
    } finally {
      x.dispose();
    }
  }
  return { accuracies, usage: usage.map((u) => u.stats()) };
}

/** Top-k expert ids of the first `probeSize` test inputs of each stream, per PEER layer (routing stability). */
export async function probeRoutes(
  model: PeerClassifier,
  streams: readonly ContinualStream[],
  options: StreamEvaluationOptions,
): Promise<PeerRetrieval[][]> {
  const out: PeerRetrieval[][] = [];
  for (const s of streams) {
    const n = Math.min(options.probeSize, s.test?.size ?? 0);
    if (!s.test || n === 0 || model.peerLayers().length === 0) {
      out.push([]);
      continue;
    }
    const x = tf.tensor2d(s.test.x.subarray(0, n * s.test.dim), [n, s.test.dim]);
    try {
      out.push(await captureRetrievals(model, x, options.head(s.task)));
    } finally {
      x.dispose();
    }
  }
  return out;
}
