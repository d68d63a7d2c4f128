import { z } from 'zod';
import { parseConfig, peerBlockSchema } from './parse-config.js';

const positiveInt = z.number().int().positive();

/**
 * Configuration of {@link PeerClassifier}: input projection -> `blocks` pre-LN residual blocks
 * h = h + FFN(LN(h)) -> final LN -> one head per task.
 */
export const classifierConfigSchema = z
  .object({
    /** Width of the input vectors. */
    inDim: positiveInt,
    /** Classes per head. */
    classes: positiveInt,
    /** Residual width; 64 is the demo's d and trains in seconds on 2 cores. */
    dModel: positiveInt.default(64),
    /** Residual blocks; one PEER block already is a 2-layer network with N hidden units to choose from. */
    blocks: positiveInt.default(1),
    /**
     * Output heads; task-incremental learning gives each task its own head (van de Ven & Tolias 2019,
     * "multi-headed"), 1 is a single shared head (domain- and class-incremental settings).
     */
    taskHeads: positiveInt.default(1),
    /** Block FFN: 'peer' (the point of the package) or 'dense' (the baseline at equal width). */
    ffn: z.enum(['peer', 'dense']).default('peer'),
    /** Hidden width of the dense FFN as a multiple of dModel (the transformer's 4). */
    denseMultiplier: positiveInt.default(4),
    /** PEER layer settings of every block (each block has its own expert pool). */
    peer: peerBlockSchema.prefault({}),
    /** LayerNorm epsilon (PyTorch's default). */
    layerNormEpsilon: z.number().positive().default(1e-5),
  })
  .strict();

export type ClassifierConfigInput = z.input<typeof classifierConfigSchema>;
export type ClassifierConfig = z.output<typeof classifierConfigSchema>;

/** Validates a classifier config and fills defaults; throws `PeerConfigError` naming field, bound, value. */
export function parseClassifierConfig(input: unknown): ClassifierConfig {
  return parseConfig(classifierConfigSchema, input);
}
