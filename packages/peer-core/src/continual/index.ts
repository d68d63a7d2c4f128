/** Continual learning: a learner over a sequence of streams, with forgetting controls as plugins. */
export { batchLoss } from './batch-loss.js';
export {
  type ClassPrototypeOptions,
  type ClassPrototypeOptionsInput,
  ClassPrototypePlugin,
  classPrototypeOptionsSchema,
} from './class-prototype-plugin.js';
export { ClassPrototypes, type PrototypeSnapshot } from './class-prototypes.js';
export { ContinualLearner, type ContinualReport, type StreamReport } from './continual-learner.js';
export { type EwcOptions, type EwcOptionsInput, EwcPlugin, ewcOptionsSchema } from './ewc.js';
export { diagonalFisher, type FisherDiagonal, type FisherModel, type FisherOptions } from './fisher.js';
export { fisherBlocks, mergeFisher } from './fisher-blocks.js';
export {
  type FreezeAndGrowOptions,
  type FreezeAndGrowOptionsInput,
  FreezeAndGrowPlugin,
  freezeAndGrowOptionsSchema,
} from './freeze-and-grow.js';
export { type ImageShift, type ImageShiftInput, imageShiftSchema, shiftImage } from './image-shift.js';
export { type L2SpOptionsInput, L2SpPlugin, l2SpOptionsSchema } from './l2-sp.js';
export {
  type ContinualConfig,
  type ContinualConfigInput,
  continualConfigSchema,
  parseContinualConfig,
} from './learner-config.js';
export { distillationLoss, type LwfOptionsInput, LwfPlugin, lwfOptionsSchema } from './lwf.js';
export {
  classifierExpertTables,
  classifierVariables,
  type NamedExpertTable,
  type NamedVariable,
  snapshotParameters,
} from './model-parameters.js';
export { peerLayerInputs } from './peer-inputs.js';
export type { BatchTensors, ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';
export {
  PrototypeClassifier,
  type PrototypeClassifierOptions,
  type PrototypeMode,
  type PrototypeSpace,
  prototypeFeatures,
} from './prototype-classifier.js';
export {
  PROTOTYPE_STATE_METHOD,
  type PrototypeSettings,
  prototypeState,
  restorePrototypes,
  type SavedPrototypes,
} from './prototype-state.js';
export { QuadraticPenalty, type QuadraticTerm } from './quadratic-penalty.js';
export { type ReplayOptions, type ReplayOptionsInput, ReplayPlugin, replayOptionsSchema } from './replay.js';
export { ReservoirBuffer, type ReservoirBufferOptions } from './reservoir-buffer.js';
export {
  type Batch,
  batchOf,
  type ContinualStream,
  concatBatches,
  headOf,
  type Scenario,
} from './scenario.js';
export {
  type ContinualStateStore,
  InMemoryContinualStateStore,
  type JsonPrimitive,
  type RegularizationState,
  type ReplayItem,
  type ReplaySnapshot,
  type ReservoirSnapshot,
} from './state-store.js';
export { StepForward } from './step-forward.js';
export { stepLoss } from './step-loss.js';
