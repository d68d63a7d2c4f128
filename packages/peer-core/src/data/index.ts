/** Data sets for tests, demos and benchmarks (seeded, in plain typed arrays). */
export { CharVocab } from './char-corpus.js';
export { checkLabeledData, filterByLabel, type LabeledData, toTensors } from './labeled-data.js';
export {
  type GaussianClusters,
  type GaussianClustersConfig,
  type GaussianClustersInput,
  gaussianClusters,
  gaussianClustersSchema,
} from './synthetic.js';
