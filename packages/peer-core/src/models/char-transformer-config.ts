import { z } from 'zod';
import { PeerConfigError } from '../errors/peer-error.js';
import { fffBlockSchema, moeBlockSchema, pkmBlockSchema } from './ffn/ffn-configs.js';
import { parseConfig, peerBlockSchema } from './parse-config.js';

const positiveInt = z.number().int().positive();

/**
 * Configuration of {@link CharTransformer}, a nanoGPT-style character LM (`GPTConfig` in nanoGPT's
 * model.py) scaled to a 2-core CPU.
 */
export const charTransformerConfigSchema = z
  .object({
    /** Distinct characters. */
    vocabSize: positiveInt,
    /** Longest context; nanoGPT's shakespeare_char uses 256, 64 keeps the T² attention cheap here. */
    contextLength: positiveInt.default(64),
    /** Residual width (nanoGPT's shakespeare_char: 384; 64 trains in seconds). */
    dModel: positiveInt.default(64),
    /** Attention heads; head width dModel / heads = 16. */
    heads: positiveInt.default(4),
    /** Transformer blocks; 3 so that there is a middle block with a dense block on each side. */
    layers: positiveInt.default(3),
    /**
     * FFN of the middle block, floor(layers / 2): 'dense', 'peer' (PEER replaces an FFN, He 2024 §3), or one of
     * the paper's baselines: 'moe' (Shazeer et al. 2017), 'pkm' (Lample et al. 2019), 'fff' (Belcak &
     * Wattenhofer 2023).
     */
    ffn: z.enum(['dense', 'peer', 'moe', 'pkm', 'fff']).default('dense'),
    /** Dense FFN hidden width as a multiple of dModel (GPT-2's 4). */
    ffnMultiplier: positiveInt.default(4),
    /** PEER settings when `ffn` is 'peer'. */
    peer: peerBlockSchema.prefault({}),
    /** MoE settings when `ffn` is 'moe'. */
    moe: moeBlockSchema.prefault({}),
    /** Product-key memory settings when `ffn` is 'pkm'. */
    pkm: pkmBlockSchema.prefault({}),
    /** Fast feed-forward settings when `ffn` is 'fff'. */
    fff: fffBlockSchema.prefault({}),
    /** Output projection = token embedding transposed (weight tying, Press & Wolf 2017; nanoGPT does it). */
    tiedEmbeddings: z.boolean().default(true),
    /** Weight init std: nanoGPT's 0.02; residual output projections get 0.02 / sqrt(2 * layers). */
    initStd: z.number().positive().default(0.02),
    /** LayerNorm epsilon (PyTorch's default). */
    layerNormEpsilon: z.number().positive().default(1e-5),
  })
  .strict();

export type CharTransformerConfigInput = z.input<typeof charTransformerConfigSchema>;
export type CharTransformerConfig = z.output<typeof charTransformerConfigSchema>;

/** Validates and fills defaults; throws `PeerConfigError` naming field, bound and value. */
export function parseCharTransformerConfig(input: unknown): CharTransformerConfig {
  const config = parseConfig(charTransformerConfigSchema, input);
  if (config.dModel % config.heads !== 0) {
    throw new PeerConfigError('dModel', `a multiple of heads (${config.heads})`, config.dModel);
  }
  return config;
}
