/** LoRA adapters: forward, retrieval by key, training, registry, and Hugging Face PEFT / safetensors interchange. */
export { adapterEmbedding, meanEmbedding } from './adapter-embedding.js';
export {
  type AdapterPerStreamOptions,
  type AdapterPerStreamOptionsInput,
  AdapterPerStreamPlugin,
  adapterPerStreamOptionsSchema,
} from './adapter-per-stream.js';
export { AdapterRegistry } from './adapter-registry.js';
export {
  type AdapterPrediction,
  type AdapterSelection,
  type AutoRetrievalOptions,
  autoMix,
  type ExplicitAdapterChoice,
  explicitMix,
  predictWithAdapters,
  selectAdapters,
} from './adapter-selection.js';
export { type FileFormat, PeerFormatError } from './format-error.js';
export {
  type LinearShape,
  LoraAdapter,
  type LoraAdapterSpec,
  type LoraModule,
  type LoraModuleWeights,
} from './lora-adapter.js';
export { type AdapterMix, adaptedLogits, classifierLinearModules, linearShapes } from './lora-forward.js';
export { loadPeftDirectory, savePeftDirectory } from './peft-directory.js';
export {
  exportPeft,
  importPeft,
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  type PeftFiles,
} from './peft-format.js';
export {
  MAX_HEADER_BYTES,
  readSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
  writeSafetensors,
} from './safetensors.js';
export {
  dtypeSize,
  halfToFloat,
  SAFETENSORS_DTYPES,
  type SafetensorsDType,
  toFloat32,
} from './safetensors-dtype.js';
export { type TrainAdapterOptions, trainAdapter } from './train-adapter.js';
