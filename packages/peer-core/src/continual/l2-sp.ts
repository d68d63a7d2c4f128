import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { parseConfig } from '../models/parse-config.js';
import { snapshotParameters } from './model-parameters.js';
import type { ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';
import { QuadraticPenalty } from './quadratic-penalty.js';

/** Settings of {@link L2SpPlugin}. */
export const l2SpOptionsSchema = z
  .object({
    /**
     * alpha of (alpha/2) ||theta - theta_prev||^2. Li et al. (2018) tune it per task (1e-3 .. 1e-1 in their
     * transfer experiments); 0.01 is their most common choice.
     */
    strength: z.number().nonnegative().default(0.01),
  })
  .strict();

export type L2SpOptionsInput = z.input<typeof l2SpOptionsSchema>;

/**
 * L2-SP (Li, Grandvalet & Davoine 2018, "Explicit inductive bias for transfer learning"): an L2 pull towards
 * the previous version's parameters instead of towards zero. The anchor is taken after each stream and stored
 * with that version; parameters added since (grown rows, a new head) are unanchored and free.
 */
export class L2SpPlugin implements ContinualPlugin {
  readonly name = 'l2-sp';
  readonly strength: number;
  private anchors: ReturnType<typeof snapshotParameters> | null = null;
  private active: QuadraticPenalty | null = null;

  constructor(options: L2SpOptionsInput = {}) {
    this.strength = parseConfig(l2SpOptionsSchema, options).strength;
  }

  describe(): PluginDescription {
    return { name: this.name, settings: { strength: this.strength, anchor: 'previous version' } };
  }

  async beforeStream(ctx: StreamContext): Promise<void> {
    if (ctx.streamIndex === 0) return;
    if (!this.anchors && ctx.previousVersionKey !== undefined) {
      this.anchors =
        (await ctx.store.loadRegularization(ctx.previousVersionKey, this.name))?.anchors.slice() ?? null;
    }
    this.active?.dispose();
    this.active = this.anchors
      ? new QuadraticPenalty(ctx.model, [{ anchors: this.anchors, weights: null }], this.strength)
      : null;
  }

  penalty(): tf.Scalar | null {
    return this.active ? this.active.value({ pushExpertGradients: true }) : null;
  }

  async afterStream(ctx: StreamContext): Promise<void> {
    this.active?.dispose();
    this.active = null;
    this.anchors = snapshotParameters(ctx.model);
    await ctx.store.saveRegularization(ctx.versionKey, this.name, {
      anchors: this.anchors,
      fisher: [],
      meta: { strength: this.strength },
    });
  }

  dispose(): void {
    this.active?.dispose();
    this.active = null;
  }
}
