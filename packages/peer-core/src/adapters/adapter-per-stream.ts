import { z } from 'zod';
import type { ContinualPlugin, PluginDescription, StreamContext } from '../continual/plugin.js';
import { parseConfig } from '../models/parse-config.js';
import type { AdapterRegistry } from './adapter-registry.js';
import { LoraAdapter } from './lora-adapter.js';
import { linearShapes } from './lora-forward.js';
import { trainAdapter } from './train-adapter.js';

/** Settings of {@link AdapterPerStreamPlugin}. */
export const adapterPerStreamOptionsSchema = z
  .object({
    /** Linear modules to adapt (see `classifierLinearModules`); the input projection by default. */
    targetModules: z.array(z.string()).min(1).default(['input']),
    /** LoRA rank; 4 is enough for a per-stream correction at d 64 (Hu et al. 2021 find r 1-8 often suffices). */
    rank: z.number().int().positive().default(4),
    /** LoRA alpha; 2r gives scale 2, PEFT examples' usual ratio. */
    alpha: z.number().positive().default(8),
    steps: z.number().int().positive().default(200),
    batchSize: z.number().int().positive().default(64),
    learningRate: z.number().positive().default(1e-3),
    seed: z.number().int().default(0),
  })
  .strict();

export type AdapterPerStreamOptionsInput = z.input<typeof adapterPerStreamOptionsSchema>;
export type AdapterPerStreamOptions = z.output<typeof adapterPerStreamOptionsSchema>;

/**
 * Trains one LoRA adapter per stream, after the stream's own training, on the stream's data with the model
 * frozen, and registers it as `<stream id>@1` with its retrieval key; `auto` selection then routes inputs to
 * the adapter of the stream they resemble (DESIGN §3).
 */
export class AdapterPerStreamPlugin implements ContinualPlugin {
  readonly name = 'adapter-per-stream';
  readonly options: AdapterPerStreamOptions;

  constructor(
    readonly registry: AdapterRegistry,
    options: AdapterPerStreamOptionsInput = {},
  ) {
    this.options = parseConfig(adapterPerStreamOptionsSchema, options);
  }

  describe(): PluginDescription {
    const { targetModules, rank, alpha, steps } = this.options;
    return { name: this.name, settings: { targetModules: targetModules.join(','), rank, alpha, steps } };
  }

  async afterStream(ctx: StreamContext): Promise<void> {
    const { targetModules, rank, alpha, steps, batchSize, learningRate, seed } = this.options;
    const adapter = LoraAdapter.create({
      name: ctx.stream.id,
      rank,
      alpha,
      modules: linearShapes(ctx.model, targetModules),
      seed: seed + ctx.streamIndex,
    });
    try {
      await trainAdapter(ctx.model, adapter, ctx.stream.train, {
        steps,
        batchSize,
        task: ctx.headOf(ctx.stream.task),
        trainer: { learningRate },
        seed: seed + ctx.streamIndex,
      });
      this.registry.add(adapter);
    } catch (error) {
      adapter.dispose();
      throw error;
    }
  }
}
