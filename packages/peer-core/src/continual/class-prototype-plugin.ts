import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { PeerConfigError } from '../errors/peer-error.js';
import { parseConfig } from '../models/parse-config.js';
import { createRandom } from '../util/random.js';
import { ClassPrototypes } from './class-prototypes.js';
import { pickRows } from './fisher.js';
import type { ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';
import { PrototypeClassifier, prototypeFeatures } from './prototype-classifier.js';
import { PROTOTYPE_STATE_METHOD, prototypeState, restorePrototypes } from './prototype-state.js';
import { batchOf, type ContinualStream } from './scenario.js';

const positiveInt = z.number().int().positive();

/** Settings of {@link ClassPrototypePlugin}. */
export const classPrototypeOptionsSchema = z
  .object({
    /** `task` (class-IL): answer among the nearest prototype's stream's classes; `product`: see PrototypeMode. */
    mode: z.enum(['task', 'product']).default('product'),
    /**
     * Feature space: the raw inputs, or the input projection's output, which must not train after the first
     * stream (list this plugin after freeze-and-grow, which freezes it).
     */
    space: z.enum(['input', 'projection']).default('projection'),
    /** k-means centroids kept per class and stream. */
    perClass: positiveInt.default(16),
    /** Training inputs per stream the centroids are computed from. */
    sample: positiveInt.default(4096),
    /** Weight of the prototype term in `product` mode (distances are in units of the training scale). */
    weight: z.number().positive().default(20),
    seed: z.number().int().default(0),
  })
  .strict();

export type ClassPrototypeOptionsInput = z.input<typeof classPrototypeOptionsSchema>;
export type ClassPrototypeOptions = z.output<typeof classPrototypeOptionsSchema>;

/**
 * Class prototypes as a strategy: after every stream, k-means centroids of each of its classes' features are
 * added (and saved with the version through the store), and predictions become the head's corrected by them
 * (see {@link PrototypeClassifier}). No training step changes; no example is kept.
 */
export class ClassPrototypePlugin implements ContinualPlugin {
  readonly name = PROTOTYPE_STATE_METHOD;
  readonly options: ClassPrototypeOptions;
  private prototypes: ClassPrototypes | undefined;
  /** Classes each stream taught, by stream index. */
  private streamClasses: number[][] = [];

  constructor(options: ClassPrototypeOptionsInput = {}) {
    this.options = parseConfig(classPrototypeOptionsSchema, options);
  }

  describe(): PluginDescription {
    const { mode, space, perClass, sample, weight } = this.options;
    return { name: this.name, settings: { mode, space, perClass, sample, weight } };
  }

  /** The prototypes so far (undefined before the first stream ends). */
  get current(): ClassPrototypes | undefined {
    return this.prototypes;
  }

  async beforeStream(ctx: StreamContext): Promise<void> {
    const { mode } = this.options;
    if (ctx.scenario === 'task') {
      throw new PeerConfigError(
        'plugins.class-prototypes',
        'not in task-IL (each task has its own head)',
        mode,
      );
    }
    if (mode === 'task' && ctx.scenario !== 'class') {
      throw new PeerConfigError('plugins.class-prototypes.mode', "'product' outside class-IL", mode);
    }
    if (!this.prototypes) {
      const loaded = ctx.previousVersionKey !== undefined && (await this.load(ctx, ctx.previousVersionKey));
      if (!loaded) await this.backfill(ctx);
    }
    const projection = this.options.space === 'projection';
    if (projection && this.streamClasses.length > 0 && ctx.model.input.variables().some((v) => v.trainable)) {
      throw new PeerConfigError(
        'plugins.class-prototypes.space',
        "'input', or a frozen input projection after the first stream (list freeze-and-grow first)",
        `input projection trainable in stream ${ctx.stream.id}`,
      );
    }
  }

  async afterStream(ctx: StreamContext): Promise<void> {
    await this.addStream(ctx.model, ctx.stream);
    if (!this.prototypes) return;
    const { mode, space, weight } = this.options;
    await ctx.store.saveRegularization(
      ctx.versionKey,
      PROTOTYPE_STATE_METHOD,
      prototypeState({
        prototypes: this.prototypes,
        streamClasses: this.streamClasses,
        settings: { mode, space, weight },
      }),
    );
  }

  predictor(ctx: StreamContext): PrototypeClassifier | undefined {
    if (!this.prototypes) return undefined;
    const { mode, space, weight } = this.options;
    return new PrototypeClassifier(ctx.model, this.prototypes, {
      mode,
      space,
      weight,
      streamClasses: this.streamClasses,
    });
  }

  /**
   * Centroids of every stream before the current one, from what the run still has of their training data
   * (all of it in a benchmark; the replay sample in the API). Used when no earlier prototypes were saved,
   * e.g. when prototypes are switched on for a lineage that ran without them: a class with no centroid could
   * otherwise never win a `product` prediction again.
   */
  private async backfill(ctx: StreamContext): Promise<void> {
    for (let i = 0; i < ctx.streamIndex; i++) {
      const stream = ctx.streams[i];
      if (stream && stream.train.size > 0) await this.addStream(ctx.model, stream);
    }
  }

  /** Adds one stream's class centroids, numbered after the streams already seen. */
  private async addStream(model: StreamContext['model'], stream: ContinualStream): Promise<void> {
    // Streams are numbered in the order the prototypes saw them (a resumed run continues the numbering).
    const streamIndex = this.streamClasses.length;
    const { space, perClass, sample, seed } = this.options;
    const dim = space === 'input' ? model.config.inDim : model.config.dModel;
    this.prototypes ??= new ClassPrototypes(dim, perClass);
    const { train } = stream;
    const rng = createRandom(seed + 7919 * (streamIndex + 1));
    const batch = batchOf(train, stream.task, pickRows(train.size, Math.min(sample, train.size), rng));
    const x = tf.tensor2d(batch.x, [batch.size, batch.dim]);
    try {
      this.prototypes.add(streamIndex, await prototypeFeatures(model, x, space), batch.y, rng);
    } finally {
      x.dispose();
    }
    this.streamClasses[streamIndex] = [...new Set(train.y)].sort((a, b) => a - b);
  }

  private async load(ctx: StreamContext, versionKey: string): Promise<boolean> {
    const state = await ctx.store.loadRegularization(versionKey, PROTOTYPE_STATE_METHOD);
    if (!state) return false;
    const saved = restorePrototypes(state);
    if (saved.settings.space !== this.options.space) {
      throw new PeerConfigError(
        'plugins.class-prototypes.space',
        `'${saved.settings.space}' (as saved)`,
        this.options.space,
      );
    }
    this.prototypes = saved.prototypes;
    this.streamClasses = saved.streamClasses.map((c) => [...c]);
    return true;
  }
}
