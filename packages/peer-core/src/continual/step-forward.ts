import * as tf from '@tensorflow/tfjs';
import type { PeerClassifier } from '../models/classifier.js';
import type { BatchTensors } from './plugin.js';
import type { Batch } from './scenario.js';

/**
 * One training step's forward pass over a batch, shared by the loss and the plugins' penalties: the model's
 * features run once per step, and each head's logits once per head. Before it, LwF ran the student a second
 * time on the same batch, doubling the forward and backward of every replay + LwF step. Create it inside the
 * step's tidy; everything it holds is that tidy's.
 */
export class StepForward implements BatchTensors {
  readonly x: tf.Tensor2D;
  private features: tf.Tensor2D | undefined;
  private readonly byHead = new Map<number, tf.Tensor2D>();

  constructor(
    readonly model: PeerClassifier,
    readonly batch: Batch,
    readonly training: boolean,
  ) {
    this.x = tf.tensor2d(batch.x, [batch.size, batch.dim]);
  }

  /** Logits [batch.size, classes] of every row under `head`. */
  logits(head: number): tf.Tensor2D {
    let out = this.byHead.get(head);
    if (!out) {
      this.features ??= this.model.features(this.x, { training: this.training });
      out = this.model.headLogits(this.features, head);
      this.byHead.set(head, out);
    }
    return out;
  }
}
