import type { CharTransformerConfigInput } from '../../src/models/char-transformer-config.js';
import type { FeedForwardKind } from '../../src/models/feed-forward.js';

/** One trained model of the comparison. */
export interface LmCase {
  /** Short unique name (`--cases` selects by it). */
  readonly name: string;
  /** Which part of the report it belongs to. */
  readonly group: 'equal-flops' | 'query-bn' | 'n-sweep';
  readonly ffn: FeedForwardKind;
  /** Model config on top of {@link baseModel}. */
  readonly model: Partial<CharTransformerConfigInput>;
}

/**
 * The shared model: nanoGPT-style, d 64, 3 blocks, 4 attention heads, context 64 (~0.15M parameters
 * outside the middle FFN); the middle block's FFN is what the cases vary.
 */
export const baseModel = {
  contextLength: 64,
  dModel: 64,
  heads: 4,
  layers: 3,
} as const satisfies Partial<CharTransformerConfigInput>;

/** PEER at fixed h·k = 4 × 16 = 64 experts per token; N varies in the sweep. */
const peer = (side: number, queryBatchNorm = true) => ({
  heads: 4,
  topK: 16,
  dKey: 32,
  subKeyRows: side,
  subKeyCols: side,
  queryBatchNorm,
});

/**
 * Every case, sized so each FFN's training FLOPs per token are within ~1.5x of the dense 4d FFN's at
 * N = 128² (see `ffnTokenFlops`; the bench prints the exact counts):
 * - dense: 64 -> 256 -> 64.
 * - moe: 8 experts of hidden 128, top-2 (active = dense), noisy gating + balancing losses.
 * - pkm: 128² values, h 4, k 32, d_k 32, query BN (Lample et al. 2019's h and k).
 * - fff: depth 3, 8 leaves of width 32 (training = dense, inference 1/8).
 * - peer: 128² experts, h 4, k 16, d_k 32; without query BN (ablation); 256², 512² at the same h·k.
 */
export const allCases: readonly LmCase[] = [
  { name: 'dense', group: 'equal-flops', ffn: 'dense', model: {} },
  {
    name: 'moe',
    group: 'equal-flops',
    ffn: 'moe',
    model: { moe: { experts: 8, topK: 2, expertHidden: 128 } },
  },
  { name: 'pkm', group: 'equal-flops', ffn: 'pkm', model: { pkm: { heads: 4, topK: 32, dKey: 32 } } },
  { name: 'fff', group: 'equal-flops', ffn: 'fff', model: { fff: { depth: 3, leafWidth: 32 } } },
  { name: 'peer-128', group: 'equal-flops', ffn: 'peer', model: { peer: peer(128) } },
  { name: 'peer-128-nobn', group: 'query-bn', ffn: 'peer', model: { peer: peer(128, false) } },
  { name: 'peer-256', group: 'n-sweep', ffn: 'peer', model: { peer: peer(256) } },
  { name: 'peer-512', group: 'n-sweep', ffn: 'peer', model: { peer: peer(512) } },
];
