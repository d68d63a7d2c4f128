import { z } from 'zod';

const positiveInt = z.number().int().positive();

/**
 * A coarse sparsely-gated MoE FFN (Shazeer et al. 2017), sized for the char-LM comparison: `experts` GELU
 * MLPs d -> expertHidden -> d, each token sent to the top `topK` of them.
 */
export const moeBlockSchema = z
  .object({
    /** Experts in the layer: 8 as in Mixtral 8x7B and Grok-1. */
    experts: positiveInt.default(8),
    /** Experts per token: 2 as in Mixtral and Grok-1 (Shazeer et al. 2017 used 4). */
    topK: positiveInt.default(2),
    /** Hidden width of one expert; 128 = 4d / topK at d 64, so the active FLOPs equal a dense 4d FFN. */
    expertHidden: positiveInt.default(128),
    /** Tunable Gaussian noise on the router logits in training (Shazeer et al. 2017 §2.1, eq. 4). */
    noisy: z.boolean().default(true),
    /** Weight of CV(Importance)² (Shazeer et al. 2017 §4, eq. 7; tensor2tensor's loss_coef 1e-2). */
    importanceWeight: z.number().gte(0).default(0.01),
    /** Weight of CV(Load)² (Shazeer et al. 2017 App. A, eq. 11). */
    loadWeight: z.number().gte(0).default(0.01),
  })
  .strict();

/**
 * A product-key memory FFN (Lample et al. 2019): product-key top-k per head, output = softmax-weighted sum of
 * d-dim value vectors. Defaults follow the paper's h 4, k 32 with dKey = d/2.
 */
export const pkmBlockSchema = z
  .object({
    heads: positiveInt.default(4),
    topK: positiveInt.default(32),
    dKey: positiveInt.default(32),
    /** 128 x 128 = 16384 values. */
    subKeyRows: positiveInt.default(128),
    subKeyCols: positiveInt.default(128),
    /** Query batch-norm: Lample et al. 2019 §3.3 found it raises key usage. */
    queryBatchNorm: z.boolean().default(true),
  })
  .strict();

/**
 * A fast feed-forward network (Belcak & Wattenhofer 2023): a balanced binary tree of single-neuron nodes
 * routing to `2^depth` leaf MLPs of width `leafWidth`. Training mixes all leaves softly; inference descends
 * one path and evaluates one leaf.
 */
export const fffBlockSchema = z
  .object({
    /** 3 levels = 8 leaves. */
    depth: z.number().int().min(1).max(12).default(3),
    /** 8 leaves x 32 = 256 = 4d at d 64: training FLOPs equal a dense 4d FFN, inference 1/8 of it. */
    leafWidth: positiveInt.default(32),
    /**
     * Weight of the node-entropy "hardening" loss that pushes soft decisions to 0/1, so the hard inference
     * descent matches what training optimised (Belcak & Wattenhofer 2023 §3); 0.1 is our choice.
     */
    hardeningWeight: z.number().gte(0).default(0.1),
  })
  .strict();

export type MoeBlockConfig = z.output<typeof moeBlockSchema>;
export type MoeBlockConfigInput = z.input<typeof moeBlockSchema>;
export type PkmBlockConfig = z.output<typeof pkmBlockSchema>;
export type PkmBlockConfigInput = z.input<typeof pkmBlockSchema>;
export type FffBlockConfig = z.output<typeof fffBlockSchema>;
export type FffBlockConfigInput = z.input<typeof fffBlockSchema>;
