/** Training: the trainer (tfjs Adam + sparse expert Adam), batch sampling, objectives and evaluation. */
export { BatchSampler, gatherLabels, gatherRows, sampleWindows } from './batches.js';
export { type AdamOptions, DenseAdam, type VariableAdam } from './dense-adam.js';
export {
  type AccuracyOptions,
  type AccuracyResult,
  type AsyncClassifier,
  evaluateAccuracy,
} from './evaluate.js';
export { classifierObjective, languageModelObjective, type ObjectiveOptions } from './objectives.js';
export { type SparseAdamOptions, SparseExpertAdam } from './sparse-expert-adam.js';
export { TfjsAdam } from './tfjs-adam.js';
export {
  type FitOptions,
  type TrainableModel,
  Trainer,
  type TrainHistory,
  type TrainProgress,
} from './trainer.js';
export {
  parseTrainerConfig,
  type TrainerConfig,
  type TrainerConfigInput,
  trainerConfigSchema,
} from './trainer-config.js';
