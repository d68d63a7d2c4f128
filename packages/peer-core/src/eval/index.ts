/** Evaluation of continual learning: accuracy-matrix metrics, routing stability, and the Split MNIST benchmark data. */
export { type ContinualMetrics, continualMetrics } from './continual-metrics.js';
export { type IdxArray, parseIdx } from './idx.js';
export { captureRetrievals, type RetrievingModel, routingChange } from './routing-stability.js';
export {
  loadMnist,
  type Mnist,
  mnistDataDir,
  type SplitMnistOptions,
  type SplitTask,
  splitMnist,
  splitMnistStreams,
} from './split-mnist.js';
