import * as tf from '@tensorflow/tfjs';
import type { LabeledData } from '../data/labeled-data.js';
import { PeerConfigError } from '../errors/peer-error.js';
import type { PeerClassifier } from '../models/classifier.js';
import { softmaxCrossEntropy } from '../models/cross-entropy.js';
import { BatchSampler, gatherLabels, gatherRows } from '../train/batches.js';
import { Trainer, type TrainHistory } from '../train/trainer.js';
import type { TrainerConfigInput } from '../train/trainer-config.js';
import { meanEmbedding } from './adapter-embedding.js';
import type { LoraAdapter } from './lora-adapter.js';
import { adaptedLogits } from './lora-forward.js';

/** Settings of {@link trainAdapter}. */
export interface TrainAdapterOptions {
  readonly steps: number;
  readonly batchSize: number;
  /** Head the data is scored with (default 0). */
  readonly task?: number;
  readonly trainer?: TrainerConfigInput;
  readonly seed?: number;
  readonly signal?: AbortSignal;
}

/**
 * Trains one adapter on one stream's data with the base model frozen: only the adapter's A and B get gradient
 * (the base runs in inference mode, so BN statistics and expert tables are untouched), then sets the
 * adapter's retrieval key to the mean embedding of the data.
 *
 * @example
 * const adapter = LoraAdapter.create({ name: 'stream-3', rank: 4, alpha: 8, modules: linearShapes(model, ['input']) });
 * await trainAdapter(model, adapter, stream.train, { steps: 200, batchSize: 64 });
 */
export async function trainAdapter(
  model: PeerClassifier,
  adapter: LoraAdapter,
  data: LabeledData,
  options: TrainAdapterOptions,
): Promise<TrainHistory> {
  if (data.dim !== model.config.inDim)
    throw new PeerConfigError('data.dim', `the model's inDim (${model.config.inDim})`, data.dim);
  const trainer = new Trainer(
    { trainableVariables: () => adapter.trainableVariables(), peerLayers: () => [] },
    options.trainer ?? {},
  );
  const sampler = new BatchSampler(data.size, options.seed ?? 0);
  const task = options.task ?? 0;
  const ones = new Float32Array(options.batchSize).fill(1);
  try {
    const history = await trainer.fit({
      steps: options.steps,
      batchSize: options.batchSize,
      ...(options.signal ? { signal: options.signal } : {}),
      loss: () => {
        const idx = sampler.next(options.batchSize);
        const x = tf.tensor2d(gatherRows(data.x, data.dim, idx), [idx.length, data.dim]);
        const logits = adaptedLogits(
          model,
          x,
          { adapters: [adapter], weights: ones },
          { task, training: false },
        );
        return softmaxCrossEntropy(logits, gatherLabels(data.y, idx));
      },
    });
    adapter.key = await meanEmbedding(model, data.x, data.size, data.dim);
    return history;
  } finally {
    trainer.dispose();
  }
}
