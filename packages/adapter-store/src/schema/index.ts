export { adapterVersions } from './adapters.js';
export { apiKeys } from './api-keys.js';
export { blocks } from './blocks.js';
export { jobEvents, jobs } from './jobs.js';
export { regularizationBlocks, regularizationStates } from './regularization.js';
export {
  ingestBatches,
  replayItems,
  replayReservoirs,
  streamRecords,
  streams,
} from './streams.js';
export { models, tenants } from './tenants.js';
export { aliases, aliasLog, versionBlocks, versions } from './versions.js';
