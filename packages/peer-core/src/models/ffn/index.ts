/** Feed-forward kinds of the PEER paper's comparison (He 2024 Table 1): MoE, PKM and FFF, with FLOP counts. */
export { FffFeedForward, type FffOptions } from './fff-feed-forward.js';
export { decisionEntropy, descendTree, softLeafProbabilities } from './fff-tree.js';
export {
  type FffBlockConfig,
  type FffBlockConfigInput,
  fffBlockSchema,
  type MoeBlockConfig,
  type MoeBlockConfigInput,
  moeBlockSchema,
  type PkmBlockConfig,
  type PkmBlockConfigInput,
  pkmBlockSchema,
} from './ffn-configs.js';
export {
  charTransformerTokenFlops,
  fffInferenceFlops,
  ffnTokenFlops,
  type TokenFlops,
  trainingFlops,
} from './flop-count.js';
export { MoeFeedForward, type MoeOptions } from './moe-feed-forward.js';
export {
  balancingLoss,
  cvSquared,
  type GatingInputs,
  type MoeGating,
  noisyTopKGating,
} from './moe-gating.js';
export { PkmFeedForward, type PkmOptions } from './pkm-feed-forward.js';
export { type Dispatch, groupByExpert, runDispatched } from './sparse-dispatch.js';
