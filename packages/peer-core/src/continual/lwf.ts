import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { PeerConfigError } from '../errors/peer-error.js';
import type { PeerClassifier } from '../models/classifier.js';
import { parseConfig } from '../models/parse-config.js';
import { deserializeClassifier, serializeClassifier } from '../serialization/classifier-blocks.js';
import type { BatchTensors, ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';

/**
 * Knowledge distillation loss (Hinton et al. 2015) as LwF uses it (Li & Hoiem 2017):
 * T^2 * mean_n sum_c -softmax(teacher_n / T)_c * log softmax(student_n / T)_c.
 * The T^2 factor keeps gradient magnitudes comparable across temperatures (Hinton et al. §2). This is the
 * cross-entropy form; it differs from KL(teacher || student) by the teacher's entropy, a constant.
 */
export function distillationLoss(student: tf.Tensor2D, teacher: tf.Tensor2D, temperature: number): tf.Scalar {
  if (!(temperature > 0)) throw new PeerConfigError('temperature', '> 0', temperature);
  return tf.tidy(() => {
    const target = tf.softmax(teacher.div(temperature));
    const logProbs = tf.logSoftmax(student.div(temperature));
    return target
      .mul(logProbs)
      .sum(1)
      .mean()
      .neg()
      .mul(temperature * temperature) as tf.Scalar;
  });
}

/** Settings of {@link LwfPlugin}. */
export const lwfOptionsSchema = z
  .object({
    /** Weight of the distillation term next to the stream's cross-entropy (Li & Hoiem's lambda_o = 1). */
    strength: z.number().nonnegative().default(1),
    /** Distillation temperature; Li & Hoiem use T = 2. */
    temperature: z.number().positive().default(2),
  })
  .strict();

export type LwfOptionsInput = z.input<typeof lwfOptionsSchema>;

/** Which outputs of the previous version are distilled: a head, and optionally only some of its classes. */
interface DistilledOutput {
  readonly head: number;
  readonly classes: Int32Array | null;
}

/**
 * Learning without Forgetting (Li & Hoiem 2017): before each stream after the first, a frozen copy of the
 * model is kept as teacher; each step adds strength * distillation(student, teacher) on the current inputs,
 * over the outputs old tasks used: each previous task's head (task-IL), the shared head (domain-IL) or the
 * shared head's classes seen so far (class-IL, as van de Ven & Tolias 2019 restrict it).
 */
export class LwfPlugin implements ContinualPlugin {
  readonly name = 'lwf';
  readonly strength: number;
  readonly temperature: number;
  private teacher: PeerClassifier | null = null;
  private outputs: DistilledOutput[] = [];

  constructor(options: LwfOptionsInput = {}) {
    const o = parseConfig(lwfOptionsSchema, options);
    this.strength = o.strength;
    this.temperature = o.temperature;
  }

  describe(): PluginDescription {
    return { name: this.name, settings: { strength: this.strength, temperature: this.temperature } };
  }

  beforeStream(ctx: StreamContext): void {
    this.teacher?.dispose();
    this.teacher = null;
    if (ctx.streamIndex === 0) return;
    const { manifest, blocks } = serializeClassifier(ctx.model);
    this.teacher = deserializeClassifier(manifest, blocks);
    const past = ctx.streams.slice(0, ctx.streamIndex);
    if (ctx.scenario === 'task') {
      this.outputs = [...new Set(past.map((s) => s.task))].map((task) => ({
        head: ctx.headOf(task),
        classes: null,
      }));
    } else if (ctx.scenario === 'domain') {
      this.outputs = [{ head: 0, classes: null }];
    } else {
      const seen = new Set<number>();
      for (const s of past) for (const y of s.train.y) seen.add(y);
      this.outputs = [{ head: 0, classes: Int32Array.from([...seen].sort((a, b) => a - b)) }];
    }
  }

  penalty(_ctx: StreamContext, batch: BatchTensors): tf.Scalar | null {
    const teacher = this.teacher;
    if (!teacher || this.outputs.length === 0 || this.strength === 0) return null;
    return tf.tidy(() => {
      let total = tf.scalar(0);
      for (const { head, classes } of this.outputs) {
        let student = batch.logits(head);
        let target = teacher.logits(batch.x, { task: head, training: false });
        if (classes) {
          const cols = tf.tensor1d(classes, 'int32');
          student = tf.gather(student, cols, 1);
          target = tf.gather(target, cols, 1);
        }
        total = total.add(distillationLoss(student, target, this.temperature));
      }
      return total.mul(this.strength / this.outputs.length) as tf.Scalar;
    });
  }

  afterStream(): void {
    this.dispose();
  }

  dispose(): void {
    this.teacher?.dispose();
    this.teacher = null;
  }
}
