import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseConfig } from '../models/parse-config.js';
import { diagonalFisher } from './fisher.js';
import { fisherBlocks, mergeFisher } from './fisher-blocks.js';
import { snapshotParameters } from './model-parameters.js';
import type { ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';
import { QuadraticPenalty, type QuadraticTerm } from './quadratic-penalty.js';

/** Settings of {@link EwcPlugin}. */
export const ewcOptionsSchema = z
  .object({
    /**
     * lambda of (lambda/2) sum F (theta - theta*)^2. It has no universal value (van de Ven & Tolias 2019
     * grid-search it over decades); 100 suits models whose per-example gradients are O(1).
     */
    strength: z.number().nonnegative().default(100),
    /** Examples the Fisher is averaged over, from the stream just learned; 256 keeps estimation to seconds. */
    samples: z.number().int().positive().default(256),
    /** `'sample'` (true Fisher, labels from the model) or `'true'` (empirical Fisher, data labels). */
    labels: z.enum(['sample', 'true']).default('sample'),
    /** Online EWC (Schwarz et al. 2018): one running Fisher, decayed by `decay`, anchored at the last version. */
    online: z.boolean().default(false),
    /** gamma of online EWC; 1 sums every task's Fisher, as in van de Ven & Tolias' Split MNIST runs. */
    decay: z.number().gte(0).lte(1).default(1),
    seed: z.number().int().default(0),
  })
  .strict();

export type EwcOptionsInput = z.input<typeof ewcOptionsSchema>;
export type EwcOptions = z.output<typeof ewcOptionsSchema>;

/**
 * Elastic weight consolidation (Kirkpatrick et al. 2017) as a plugin. After each stream it estimates the
 * diagonal Fisher on that stream's data and stores (anchor, Fisher) with the version; while training later
 * streams it adds (lambda/2) sum_t sum_i F_t,i (theta_i - theta*_t,i)^2 — one term per past stream, or with
 * `online` one running term (Schwarz et al. 2018). Expert-table terms act through the sparse expert
 * optimizer (see {@link QuadraticPenalty}).
 */
export class EwcPlugin implements ContinualPlugin {
  readonly name: string;
  readonly options: EwcOptions;
  private terms: QuadraticTerm[] = [];
  private active: QuadraticPenalty | null = null;

  constructor(options: EwcOptionsInput = {}) {
    this.options = parseConfig(ewcOptionsSchema, options);
    this.name = this.options.online ? 'online-ewc' : 'ewc';
  }

  describe(): PluginDescription {
    const { strength, samples, labels, online, decay } = this.options;
    return {
      name: this.name,
      settings: { strength, samples, fisherLabels: labels, online, decay: online ? decay : null },
    };
  }

  async beforeStream(ctx: StreamContext): Promise<void> {
    if (ctx.streamIndex === 0) return;
    if (this.terms.length === 0) await this.load(ctx);
    this.active?.dispose();
    this.active = new QuadraticPenalty(ctx.model, this.terms, this.options.strength);
  }

  penalty(): tf.Scalar | null {
    return this.active ? this.active.value({ pushExpertGradients: true }) : null;
  }

  async afterStream(ctx: StreamContext): Promise<void> {
    this.active?.dispose();
    this.active = null;
    const { samples, labels, seed, online, decay } = this.options;
    const fisher = diagonalFisher(ctx.model, ctx.stream.train, {
      samples,
      labels,
      head: ctx.headOf(ctx.stream.task),
      seed: seed + ctx.streamIndex,
    });
    let weights = fisherBlocks(ctx.model, fisher);
    if (online && this.terms[0]?.weights) weights = mergeFisher(this.terms[0].weights, weights, decay);
    const names = new Set(weights.map((b) => b.name));
    const anchors = snapshotParameters(ctx.model).filter((b) => names.has(b.name));
    const term = { anchors, weights };
    this.terms = online ? [term] : [...this.terms, term];
    await ctx.store.saveRegularization(ctx.versionKey, this.name, {
      anchors,
      fisher: weights,
      meta: { strength: this.options.strength, samples: fisher.samples, labels, online, decay },
    });
  }

  dispose(): void {
    this.active?.dispose();
    this.active = null;
  }

  /** Resumes from the store: the running term (online) or one term per past version. */
  private async load(ctx: StreamContext): Promise<void> {
    const keys = this.options.online ? [ctx.previousVersionKey] : ctx.pastVersionKeys;
    for (const key of keys) {
      if (key === undefined) continue;
      const state = await ctx.store.loadRegularization(key, this.name);
      if (state) this.terms.push({ anchors: state.anchors, weights: state.fisher });
    }
  }
}
