/**
 * @peer/adapter-store — versioned, content-addressed storage of PEER models and LoRA adapters on
 * PostgreSQL (PGlite embedded by default, postgres.js with `DATABASE_URL`).
 */

export {
  CONTINUAL_STATE_SUFFIX,
  type ContinualStateStoreOptions,
  PostgresContinualStateStore,
} from './continual-state-store.js';
export type { StoreDriver } from './drivers/driver.js';
export { MIGRATIONS_FOLDER } from './drivers/migrations-folder.js';
export type { PgliteDriverOptions } from './drivers/pglite.js';
export type { PostgresDriverOptions } from './drivers/postgres.js';
export {
  AdapterStoreError,
  AlreadyExistsError,
  BlockIntegrityError,
  type DriverName,
  IdempotencyConflictError,
  JobStateError,
  NotFoundError,
  StoreDatabaseError,
  StoreValidationError,
  VersionConflictError,
} from './errors.js';
export { type OpenStoreOptions, openStore } from './open-store.js';
export { LORA_A, LORA_B } from './ops/adapters.js';
export { API_KEY_SCOPES, MAX_API_KEY_PREFIX_LENGTH } from './ops/api-keys.js';
export { parseRowRange } from './ops/diff.js';
export { MAX_BATCH_RECORDS } from './ops/ingest.js';
export {
  DEFAULT_JOB_STALE_AFTER_MS,
  FINAL_JOB_STATUSES,
  JOB_KINDS,
  JOB_STATUSES,
  MAX_JOB_ATTEMPTS,
} from './ops/jobs.js';
export { ALIAS_CHANNEL, MAX_NOTIFY_PAYLOAD_BYTES } from './ops/notify.js';
export type { ModelHead, StorageStats } from './ops/stats.js';
export type { VerifyReport } from './ops/verify.js';
export { planReservoir } from './replay/reservoir.js';
export { mulberry32, type RandomSource, type RngFactory, randomIntBelow } from './replay/rng.js';
export { type AdapterStore, createStore, type MoveAuthor, type StoreOptions } from './store.js';
export type * from './types.js';
export type * from './types-data.js';
export type * from './types-jobs.js';
