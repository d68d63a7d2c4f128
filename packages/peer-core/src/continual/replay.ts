import { z } from 'zod';
import { parseConfig } from '../models/parse-config.js';
import { createRandom, type Random } from '../util/random.js';
import { imageShiftSchema, shiftImagesInPlace } from './image-shift.js';
import type { ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';
import { ReservoirBuffer } from './reservoir-buffer.js';
import { type Batch, concatBatches } from './scenario.js';

/** Settings of {@link ReplayPlugin}. */
export const replayOptionsSchema = z
  .object({
    /** Items kept in total, or per class with `classBalanced` (van de Ven et al. 2020: 100 per class). */
    capacity: z.number().int().positive().default(100),
    /** One reservoir per class label ("examples per class"), so no class is crowded out by a bigger one. */
    classBalanced: z.boolean().default(true),
    /** Replayed examples appended to every batch; 0 means as many as the stream's batch. */
    batchSize: z.number().int().nonnegative().default(0),
    /**
     * How the loss weighs current and replayed examples. `'example'`: every example alike (half and half at
     * equal batch sizes). `'tasks'` (van de Ven & Tolias 2019): the current stream counts 1/t and the replay
     * (t-1)/t of the loss, t = tasks seen including the current one, so every task weighs the same; without
     * it the newest task outweighs each older one and class-IL drifts towards the newest classes.
     */
    weighting: z.enum(['example', 'tasks']).default('example'),
    /**
     * Image inputs only: shift each replayed image by a few random pixels (see {@link imageShiftSchema}), so
     * a long stream does not fit the head to the exact stored images. Absent: replay them as stored.
     */
    augment: imageShiftSchema.optional(),
    seed: z.number().int().default(0),
  })
  .strict();

export type ReplayOptionsInput = z.input<typeof replayOptionsSchema>;
export type ReplayOptions = z.output<typeof replayOptionsSchema>;

/**
 * Experience replay (rehearsal) from a bounded reservoir buffer (Avalanche's `ReplayPlugin` with a
 * reservoir storage policy). After each stream its training examples are offered to the buffer, which is
 * then saved with the store under the stream's id; while training later streams every batch is extended by
 * examples drawn from the buffer, each scored by its own task's head. With equal batch sizes the loss
 * weighs current and replayed data half and half.
 */
export class ReplayPlugin implements ContinualPlugin {
  readonly name = 'replay';
  readonly options: ReplayOptions;
  private buffer: ReservoirBuffer;
  /** Draws the augmentation's shifts; separate from the buffer's stream so augmenting leaves sampling alone. */
  private readonly augmentRng: Random;

  constructor(options: ReplayOptionsInput = {}) {
    this.options = parseConfig(replayOptionsSchema, options);
    this.buffer = this.freshBuffer();
    this.augmentRng = createRandom(this.options.seed ^ 0x5eed5);
  }

  describe(): PluginDescription {
    const { capacity, classBalanced, batchSize, weighting, augment } = this.options;
    return {
      name: this.name,
      settings: {
        capacity,
        capacityPer: classBalanced ? 'class' : 'buffer',
        batchSize,
        weighting,
        policy: 'reservoir (Algorithm R)',
        augment: augment ? `shift ±${augment.maxShift}px of ${augment.height}×${augment.width}` : 'none',
      },
    };
  }

  /** The examples currently kept. */
  get size(): number {
    return this.buffer.size;
  }

  async beforeStream(ctx: StreamContext): Promise<void> {
    const previous = ctx.streams[ctx.streamIndex - 1];
    if (this.buffer.size > 0 || !previous) return;
    const snapshot = await ctx.store.loadReplay(previous.id);
    if (snapshot) this.buffer = ReservoirBuffer.fromSnapshot(snapshot);
  }

  batchTransform(batch: Batch, ctx: StreamContext): Batch {
    const count = this.options.batchSize || batch.size;
    const items = this.buffer.sample(count);
    if (items.length === 0) return batch;
    const x = new Float32Array(items.length * batch.dim);
    for (const [i, item] of items.entries()) x.set(item.x, i * batch.dim);
    if (this.options.augment) shiftImagesInPlace(x, items.length, this.options.augment, this.augmentRng);
    const replayed: Batch = {
      x,
      y: Int32Array.from(items, (i) => i.y),
      task: Int32Array.from(items, (i) => i.task),
      size: items.length,
      dim: batch.dim,
    };
    if (this.options.weighting === 'example') return concatBatches(batch, replayed);
    const t = new Set([...ctx.streams.slice(0, ctx.streamIndex + 1).map((s) => s.task)]).size;
    const weight = new Float32Array(batch.size + replayed.size);
    weight.fill(1 / t / batch.size, 0, batch.size);
    weight.fill((t - 1) / t / replayed.size, batch.size);
    return concatBatches(batch, replayed, weight);
  }

  async afterStream(ctx: StreamContext): Promise<void> {
    const { train } = ctx.stream;
    const task = ctx.stream.task;
    // A class is what the label means across tasks: in task- and domain-IL label 0 of task 1 is another
    // digit than label 0 of task 0, so "per class" keys on (task, label) there, on the label in class-IL.
    const classOf = (y: number) => (ctx.scenario === 'class' ? y : task * train.classes + y);
    for (let r = 0; r < train.size; r++) {
      const y = train.y[r] ?? 0;
      this.buffer.offerLazy(classOf(y), () => ({
        x: Array.from(train.x.subarray(r * train.dim, (r + 1) * train.dim)),
        y,
        task,
      }));
    }
    await ctx.store.saveReplay(ctx.stream.id, this.buffer.snapshot());
  }

  private freshBuffer(): ReservoirBuffer {
    const { capacity, classBalanced, seed } = this.options;
    return new ReservoirBuffer({ capacity, classBalanced, seed });
  }
}
