import { z } from 'zod';
import { parseConfig } from '../models/parse-config.js';
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

  constructor(options: ReplayOptionsInput = {}) {
    this.options = parseConfig(replayOptionsSchema, options);
    this.buffer = this.freshBuffer();
  }

  describe(): PluginDescription {
    const { capacity, classBalanced, batchSize } = this.options;
    return {
      name: this.name,
      settings: {
        capacity,
        capacityPer: classBalanced ? 'class' : 'buffer',
        batchSize,
        policy: 'reservoir (Algorithm R)',
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

  batchTransform(batch: Batch): Batch {
    const count = this.options.batchSize || batch.size;
    const items = this.buffer.sample(count);
    if (items.length === 0) return batch;
    const x = new Float32Array(items.length * batch.dim);
    for (const [i, item] of items.entries()) x.set(item.x, i * batch.dim);
    const replayed: Batch = {
      x,
      y: Int32Array.from(items, (i) => i.y),
      task: Int32Array.from(items, (i) => i.task),
      size: items.length,
      dim: batch.dim,
    };
    return concatBatches(batch, replayed);
  }

  async afterStream(ctx: StreamContext): Promise<void> {
    const { train } = ctx.stream;
    const task = ctx.stream.task;
    for (let r = 0; r < train.size; r++) {
      const y = train.y[r] ?? 0;
      this.buffer.offerLazy(y, () => ({
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
