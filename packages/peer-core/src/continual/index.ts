/** Continual learning: a learner over a sequence of streams, with forgetting controls as plugins. */
export { batchLoss } from './batch-loss.js';
export { type ContinualReport, ContinualLearner, type StreamReport } from './continual-learner.js';
export { EwcPlugin, type EwcOptions, type EwcOptionsInput, ewcOptionsSchema } from './ewc.js';
export { diagonalFisher, type FisherDiagonal, type FisherModel, type FisherOptions } from './fisher.js';
export { fisherBlocks, mergeFisher } from './fisher-blocks.js';
export {
  FreezeAndGrowPlugin,
  type FreezeAndGrowOptions,
  type FreezeAndGrowOptionsInput,
  freezeAndGrowOptionsSchema,
} from './freeze-and-grow.js';
export { L2SpPlugin, type L2SpOptionsInput, l2SpOptionsSchema } from './l2-sp.js';
export {
  type ContinualConfig,
  type ContinualConfigInput,
  continualConfigSchema,
  parseContinualConfig,
} from './learner-config.js';
export { distillationLoss, LwfPlugin, type LwfOptionsInput, lwfOptionsSchema } from './lwf.js';
export {
  classifierExpertTables,
  classifierVariables,
  type NamedExpertTable,
  type NamedVariable,
  snapshotParameters,
} from './model-parameters.js';
export { peerLayerInputs } from './peer-inputs.js';
export type { BatchTensors, ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';
export { QuadraticPenalty, type QuadraticTerm } from './quadratic-penalty.js';
export { ReplayPlugin, type ReplayOptions, type ReplayOptionsInput, replayOptionsSchema } from './replay.js';
export { ReservoirBuffer, type ReservoirBufferOptions } from './reservoir-buffer.js';
export { type Batch, batchOf, type ContinualStream, concatBatches, headOf, type Scenario } from './scenario.js';
export {
  type ContinualStateStore,
  InMemoryContinualStateStore,
  type JsonPrimitive,
  type RegularizationState,
  type ReplayItem,
  type ReplaySnapshot,
  type ReservoirSnapshot,
} from './state-store.js';
