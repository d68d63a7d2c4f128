import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { PeerConfigError } from '../errors/peer-error.js';
import { parseConfig } from '../models/parse-config.js';
import type { TensorBlock } from '../serialization/tensor-block.js';
import { createRandom } from '../util/random.js';
import { ClassPrototypes, type PrototypeSnapshot } from './class-prototypes.js';
import { pickRows } from './fisher.js';
import type { ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';
import { PrototypeClassifier, prototypeFeatures } from './prototype-classifier.js';
import { batchOf } from './scenario.js';

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

/** The store method name the prototypes are saved under, per model version. */
const STATE_METHOD = 'class-prototypes';

/**
 * Class prototypes as a strategy: after every stream, k-means centroids of each of its classes' features are
 * added (and saved with the version through the store), and predictions become the head's corrected by them
 * (see {@link PrototypeClassifier}). No training step changes; no example is kept.
 */
export class ClassPrototypePlugin implements ContinualPlugin {
  readonly name = STATE_METHOD;
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
    if (!this.prototypes && ctx.previousVersionKey) await this.load(ctx, ctx.previousVersionKey);
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
    const { model, stream } = ctx;
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
    await this.save(ctx);
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

  private async save(ctx: StreamContext): Promise<void> {
    if (!this.prototypes) return;
    const s = this.prototypes.snapshot();
    const m = s.labels.length;
    const blocks: TensorBlock[] = [
      block('centroids', 'float32', [m, s.dim], s.centroids),
      block('labels', 'int32', [m], s.labels),
      block('streams', 'int32', [m], s.streams),
    ];
    await ctx.store.saveRegularization(ctx.versionKey, STATE_METHOD, {
      anchors: blocks,
      fisher: [],
      meta: {
        dim: s.dim,
        perClass: s.perClass,
        squaredSum: s.squaredSum,
        squaredCount: s.squaredCount,
        space: this.options.space,
        streamClasses: JSON.stringify(this.streamClasses),
      },
    });
  }

  private async load(ctx: StreamContext, versionKey: string): Promise<void> {
    const state = await ctx.store.loadRegularization(versionKey, STATE_METHOD);
    if (!state) return;
    const { meta } = state;
    if (meta.space !== this.options.space) {
      throw new PeerConfigError(
        'plugins.class-prototypes.space',
        `'${meta.space}' (as saved)`,
        this.options.space,
      );
    }
    const find = (name: string) => state.anchors.find((b) => b.name === name)?.bytes ?? new Uint8Array(0);
    const snapshot: PrototypeSnapshot = {
      dim: Number(meta.dim),
      perClass: Number(meta.perClass),
      centroids: new Float32Array(copy(find('centroids'))),
      labels: new Int32Array(copy(find('labels'))),
      streams: new Int32Array(copy(find('streams'))),
      squaredSum: Number(meta.squaredSum),
      squaredCount: Number(meta.squaredCount),
    };
    this.prototypes = ClassPrototypes.fromSnapshot(snapshot);
    this.streamClasses = JSON.parse(String(meta.streamClasses)) as number[][];
  }
}

function block(
  name: string,
  dtype: 'float32' | 'int32',
  shape: number[],
  values: Float32Array | Int32Array,
): TensorBlock {
  return { name, dtype, shape, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** An aligned copy of bytes (stored blocks may start at any offset). */
function copy(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}
