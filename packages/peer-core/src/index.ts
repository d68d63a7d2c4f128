/**
 * @peer/core: PEER (He 2024, "Mixture of A Million Experts") on TensorFlow.js — exact product-key retrieval
 * over a growing pool of single-neuron experts, the models built on it, training, growth and serialization.
 * The tensor backend lives at `@peer/core/backend`; block serialization at `@peer/core/serialization`.
 */
export * from './adapters/index.js';
export * from './config/peer-config.js';
export * from './continual/index.js';
export * from './data/index.js';
export * from './errors/peer-error.js';
export * from './eval/index.js';
export { type GrowOptions, growLayer } from './growth/grow-layer.js';
export { kMeans } from './growth/kmeans.js';
export type { ExpertGradientFactors } from './layer/expert-gradients.js';
export { PeerLayer, type PeerLayerOptions, type PeerRetrieval } from './layer/peer-layer.js';
export * from './metrics/index.js';
export * from './models/index.js';
export { bruteForceTopk } from './retrieval/brute-force-topk.js';
export { type ExpertSelection, productKeyTopk } from './retrieval/product-key-topk.js';
export * from './serialization/index.js';
export * from './train/index.js';
export { createRandom, type Random } from './util/random.js';
