import {
  adaptedLogits,
  BatchSampler,
  gatherLabels,
  gatherRows,
  LoraAdapter,
  linearShapes,
  meanEmbedding,
  type PeerClassifier,
  softmaxCrossEntropy,
  Trainer,
} from '@peer/core';
import { tf } from '@peer/core/backend';
import { adaptedAccuracy } from './held-out-eval.js';
import { TaskCancelledError } from './task-errors.js';
import { fitSettings, progressEvery } from './train-steps.js';
import type { TrainAdapterOutput, TrainTaskInput, TrainTaskOptions } from './train-task-types.js';

/**
 * The module adapters train: the input projection. The store keeps one target layer per adapter, and the
 * input projection is the one linear module every classifier has (PEER layers grow experts instead).
 */
export const ADAPTER_TARGET = 'input';

/**
 * Trains a LoRA adapter of the parent version on the current stream with the model frozen (only A and B get
 * gradient; the retrieval key is the mean embedding of the stream's training inputs), and measures held-out accuracy on the stream with and without it.
 */
export async function trainAdapterTask(
  model: PeerClassifier,
  input: TrainTaskInput,
  options: TrainTaskOptions,
): Promise<Omit<TrainAdapterOutput, 'tensors'>> {
  const { spec, current } = input;
  const settings = spec.adapter;
  if (!settings) throw new TypeError('a train-adapter job needs spec.adapter');
  const head = input.scenario === 'task' ? current.task : 0;
  const adapter = LoraAdapter.create({
    name: settings.name,
    rank: settings.rank,
    alpha: settings.alpha,
    modules: linearShapes(model, [ADAPTER_TARGET]),
    seed: spec.seed,
  });
  try {
    // The core's `trainAdapter` loop, plus progress reports: only A and B train, the base runs in inference
    // mode (BN statistics and expert tables untouched).
    const trainer = new Trainer(
      { trainableVariables: () => adapter.trainableVariables(), peerLayers: () => [] },
      {
        learningRate: spec.learningRate,
        progressEvery: progressEvery(spec),
      },
    );
    const data = current.train;
    const sampler = new BatchSampler(data.size, spec.seed);
    const ones = new Float32Array(spec.batchSize).fill(1);
    let history: Awaited<ReturnType<Trainer['fit']>>;
    try {
      history = await trainer.fit({
        ...fitSettings(spec, options),
        loss: () => {
          const idx = sampler.next(spec.batchSize);
          const x = tf.tensor2d(gatherRows(data.x, data.dim, idx), [idx.length, data.dim]);
          const logits = adaptedLogits(
            model,
            x,
            { adapters: [adapter], weights: ones },
            { task: head, training: false },
          );
          return softmaxCrossEntropy(logits, gatherLabels(data.y, idx));
        },
      });
    } finally {
      trainer.dispose();
    }
    if (options.signal?.aborted) throw new TaskCancelledError();
    // The retrieval key: the mean embedding of the training inputs (DESIGN §3, LoraRetriever).
    adapter.key = await meanEmbedding(model, data.x, data.size, data.dim);
    const weights = adapter.weights()[ADAPTER_TARGET];
    if (!weights || !adapter.key) throw new TypeError('trained adapter has no input module or key');
    const losses = history.losses;
    return {
      kind: 'train-adapter',
      targetLayer: ADAPTER_TARGET,
      rank: settings.rank,
      alpha: settings.alpha,
      dIn: weights.inDim,
      dOut: weights.outDim,
      a: weights.a,
      b: weights.b,
      retrievalKey: adapter.key,
      metrics: {
        steps: history.steps,
        meanLoss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length),
        finalLoss: losses[losses.length - 1] ?? 0,
        elapsedMs: Math.round(history.elapsedMs),
        accuracy: { [current.name]: await adaptedAccuracy(model, adapter, current.heldOut, head) },
        baseAccuracy: { [current.name]: await adaptedAccuracy(model, null, current.heldOut, head) },
      },
    };
  } finally {
    adapter.dispose();
  }
}
