/** Models built on PEER layers: a vector classifier and a character-level transformer LM. */
export {
  CharTransformer,
  type CharTransformerOptions,
  natsToBits,
  type TokenBatch,
} from './char-transformer.js';
export {
  type CharTransformerConfig,
  type CharTransformerConfigInput,
  charTransformerConfigSchema,
  parseCharTransformerConfig,
} from './char-transformer-config.js';
export { type ClassifierCallOptions, type ClassifierPrediction, PeerClassifier } from './classifier.js';
export {
  type ClassifierConfig,
  type ClassifierConfigInput,
  classifierConfigSchema,
  parseClassifierConfig,
} from './classifier-config.js';
export { type Labels, softmaxCrossEntropy } from './cross-entropy.js';
export {
  collectPeerLayers,
  createFeedForward,
  DenseFeedForward,
  type FeedForward,
  type FeedForwardKind,
  PeerFeedForward,
} from './feed-forward.js';
export * from './ffn/index.js';
export {
  type PeerBlockConfig,
  type PeerBlockConfigInput,
  parseConfig,
  peerBlockSchema,
} from './parse-config.js';
