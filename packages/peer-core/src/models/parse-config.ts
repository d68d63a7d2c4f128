import { z } from 'zod';
import {
  type PeerConfig,
  parsePeerConfig,
  peerConfigSchema,
  zodIssueToConfigError,
} from '../config/peer-config.js';
import { PeerConfigError } from '../errors/peer-error.js';

const positiveInt = z.number().int().positive();

/**
 * The PEER settings of a layer inside a model: the layer config without `dModel` (the model supplies its
 * width). Defaults are scaled down from the paper's (h 8, k 16, dKey 128, 1024² experts) to models of width
 * ~64 that train in seconds on two CPU cores.
 */
export const peerBlockSchema = peerConfigSchema.omit({ dModel: true }).extend({
  /** 4 heads x 8 experts = 32 experts per token: enough mixing at d 64, a quarter of the paper's 128. */
  heads: positiveInt.default(4),
  /** k = 8 keeps the k x k product-key candidate set (64) small next to sqrt(N). */
  topK: positiveInt.default(8),
  /** dKey / dModel = 1/2 as in PKM (Lample et al. 2019: 512 keys for d 1024). */
  dKey: positiveInt.default(32),
  /** 32 x 32 = 1024 experts: a real pool at test scale; the demo uses 64 x 64. */
  subKeyRows: positiveInt.default(32),
  subKeyCols: positiveInt.default(32),
});

export type PeerBlockConfigInput = z.input<typeof peerBlockSchema>;
export type PeerBlockConfig = z.output<typeof peerBlockSchema>;

/**
 * Parses `input` with `schema`; a failure becomes a {@link PeerConfigError} naming field, bound and value.
 *
 * @example const c = parseConfig(trainerConfigSchema, { learningRate: 3e-3 });
 */
export function parseConfig<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw zodIssueToConfigError(parsed.error, input);
  return parsed.data;
}

/**
 * The full layer config of a PEER block of width `dModel`. Cross-field checks of the layer (topK <= rows,
 * even dKey, ...) are reported under `field` (e.g. `peer.topK`) so the error points into the model config.
 */
export function peerLayerConfig(block: PeerBlockConfig, dModel: number, field = 'peer'): PeerConfig {
  try {
    return parsePeerConfig({ ...block, dModel });
  } catch (error) {
    if (error instanceof PeerConfigError) {
      throw new PeerConfigError(`${field}.${error.field}`, error.bound, error.value, { cause: error });
    }
    throw error;
  }
}
