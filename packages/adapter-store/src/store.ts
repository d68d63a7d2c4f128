import type { TensorBlock } from '@peer/core/serialization';
import type { StoreDriver } from './drivers/driver.js';
import type { DriverName } from './errors.js';
import * as adapters from './ops/adapters.js';
import * as aliases from './ops/aliases.js';
import * as apiKeys from './ops/api-keys.js';
import { commitLine } from './ops/commit.js';
import type { StoreContext } from './ops/context.js';
import { diffManifests } from './ops/diff.js';
import { collectGarbage } from './ops/gc.js';
import * as ingest from './ops/ingest.js';
import * as jobEvents from './ops/job-events.js';
import * as jobs from './ops/jobs.js';
import * as notifications from './ops/notify.js';
import * as records from './ops/records.js';
import * as regularization from './ops/regularization.js';
import * as replay from './ops/replay.js';
import { type ModelHead, modelHeads, type StorageStats, storageStats } from './ops/stats.js';
import * as streams from './ops/streams.js';
import * as tenants from './ops/tenants.js';
import { type VerifyReport, verifyVersion } from './ops/verify.js';
import * as versions from './ops/versions.js';
import { mulberry32, type RngFactory } from './replay/rng.js';
import type {
  Alias,
  AliasMove,
  BlockSource,
  CommitInput,
  CommitResult,
  GcResult,
  JsonObject,
  JsonValue,
  ManifestEntry,
  Model,
  Tenant,
  Version,
  VersionDiff,
} from './types.js';
import type {
  AdapterCommitInput,
  AdapterKey,
  AdapterVersion,
  BatchInput,
  BatchReceipt,
  BatchStatus,
  RegularizationState,
  ReplayItem,
  ReplayState,
  Stream,
  StreamRecord,
} from './types-data.js';
import type {
  ApiKeyRecord,
  ApiKeyScope,
  Job,
  JobEvent,
  JobKind,
  JobOutcome,
  JobStatus,
} from './types-jobs.js';

/** Who moves an alias, and why; both are kept in the append-only alias log. */
export interface MoveAuthor {
  readonly actor: string;
  readonly reason?: string;
}

/**
 * The dialect-neutral store: every operation behaves identically on PGlite and PostgreSQL (one
 * contract suite checks that). Ids are UUIDs; every failure is an `AdapterStoreError` subclass.
 */
export interface AdapterStore {
  /** Which driver is underneath. */
  readonly driver: DriverName;

  createTenant(input: { name: string }): Promise<Tenant>;
  getTenant(id: string): Promise<Tenant>;
  findTenantByName(name: string): Promise<Tenant | undefined>;
  createModel(input: { tenantId: string; name: string; config?: JsonValue }): Promise<Model>;
  getModel(id: string): Promise<Model>;
  findModel(tenantId: string, name: string): Promise<Model | undefined>;
  listModels(tenantId: string): Promise<Model[]>;

  /** Commits a version from a parent plus changed blocks, in one transaction (see `CommitInput`). */
  commitVersion(input: CommitInput): Promise<CommitResult>;
  getVersion(id: string): Promise<Version>;
  /**
   * The version a job committed (its `lineage.extra.jobId`), on the model's line or an adapter of it.
   * A job commits at most once: a second commit with the same job id is `AlreadyExistsError`.
   */
  findVersionByJob(modelId: string, jobId: string): Promise<Version | undefined>;
  /** All versions of a line in commit order. */
  listVersions(modelId: string): Promise<Version[]>;
  /** The version and its ancestors, newest first. */
  lineage(versionId: string): Promise<Version[]>;
  getManifest(versionId: string): Promise<ManifestEntry[]>;
  /** Streams a version's blocks in name order, each verified against its sha256. */
  loadBlocks(versionId: string, options?: { names?: readonly string[] }): AsyncIterable<TensorBlock>;
  /** Which blocks, and which sub-key rows, differ between two versions. */
  diffVersions(fromId: string, toId: string): Promise<VersionDiff>;
  /** Re-checks a version end to end: manifest against the version row, every block against its sha256. */
  verifyVersion(versionId: string, options?: { data?: boolean }): Promise<VerifyReport>;
  /** Deletes a version that is not a head, not aliased and has no children. */
  deleteVersion(id: string): Promise<void>;
  /** Deletes blocks that no version or regularization state references. */
  collectGarbage(): Promise<GcResult>;

  createAlias(input: { modelId: string; name: string; versionId: string } & MoveAuthor): Promise<Alias>;
  moveAlias(
    input: { modelId: string; name: string; versionId: string; expectedVersionId?: string } & MoveAuthor,
  ): Promise<Alias>;
  /** Undoes the alias's last move (the rollback is itself logged, so rolling back twice toggles). */
  rollbackAlias(input: { modelId: string; name: string } & MoveAuthor): Promise<Alias>;
  getAlias(modelId: string, name: string): Promise<Alias>;
  listAliases(modelId: string): Promise<Alias[]>;
  aliasHistory(modelId: string, name: string): Promise<AliasMove[]>;

  createAdapter(input: {
    modelId: string;
    name: string;
    targetLayer: string;
    config?: JsonValue;
  }): Promise<Model>;
  /** The adapter line of this name (even one without versions yet), or undefined. */
  findAdapter(modelId: string, name: string): Promise<Model | undefined>;
  commitAdapterVersion(input: AdapterCommitInput): Promise<CommitResult>;
  loadAdapterVersion(versionId: string): Promise<AdapterVersion>;
  listAdapterKeys(baseModelId: string, options?: { alias?: string }): Promise<AdapterKey[]>;

  saveRegularization(input: {
    versionId: string;
    method: string;
    meta?: JsonValue;
    tensors: BlockSource;
  }): Promise<{ writtenBlocks: number; writtenBytes: number; reusedBlocks: number }>;
  loadRegularization(versionId: string, method: string): Promise<RegularizationState>;
  listRegularization(versionId: string): Promise<string[]>;

  createStream(input: { modelId: string; name: string }): Promise<Stream>;
  getStream(id: string): Promise<Stream>;
  findStream(modelId: string, name: string): Promise<Stream | undefined>;
  listStreams(modelId: string): Promise<Stream[]>;
  /** Durably records a batch (idempotent by key) before returning its receipt. */
  recordBatch(input: BatchInput): Promise<BatchReceipt>;
  getBatch(streamId: string, idempotencyKey: string): Promise<BatchReceipt>;
  listBatches(streamId: string, options?: { fromOffset?: number; limit?: number }): Promise<BatchReceipt[]>;
  readBatch(
    streamId: string,
    idempotencyKey: string,
  ): Promise<{ receipt: BatchReceipt; records: StreamRecord[] }>;
  readRecords(streamId: string, options?: { fromOffset?: number; limit?: number }): Promise<StreamRecord[]>;
  setBatchStatus(streamId: string, idempotencyKey: string, status: BatchStatus): Promise<BatchReceipt>;
  /** Acknowledges a pending batch (offering its records to replay when asked); idempotent. */
  acknowledgeBatch(
    streamId: string,
    idempotencyKey: string,
    options?: { sampleReplay?: boolean },
  ): Promise<BatchReceipt>;

  configureReplay(streamId: string, options: { capacity: number; seed: number }): Promise<ReplayState>;
  offerReplay(streamId: string, items: readonly JsonValue[]): Promise<ReplayState>;
  replayState(streamId: string): Promise<ReplayState>;
  loadReplay(streamId: string): Promise<ReplayItem[]>;

  /** Stores an API key by its sha256 (the plaintext never reaches the store); the hash is unique. */
  createApiKey(input: {
    tenantId: string;
    name: string;
    scope: ApiKeyScope;
    prefix: string;
    keyHash: string;
  }): Promise<ApiKeyRecord>;
  /** The live key with this sha256 (revoked keys are not returned); records its use (minute resolution). */
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  /** A tenant's keys, revoked ones included, oldest first. */
  listApiKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /** Revokes a key (idempotent). */
  revokeApiKey(id: string): Promise<ApiKeyRecord>;
  /** Live keys of all tenants (all keys with `includeRevoked`): zero means an admin key must be bootstrapped. */
  countApiKeys(options?: { includeRevoked?: boolean }): Promise<number>;

  /** Queues a training job (`maxAttempts` default 3). */
  createJob(input: {
    tenantId: string;
    modelId: string;
    kind: JobKind;
    spec: JsonValue;
    maxAttempts?: number;
  }): Promise<Job>;
  getJob(id: string): Promise<Job>;
  /** A model's jobs, newest first (limit default 100). */
  listJobs(modelId: string, options?: { status?: JobStatus; limit?: number }): Promise<Job[]>;
  /** Jobs of all models with one of the statuses (queue depth). */
  countJobs(options: { statuses: readonly JobStatus[] }): Promise<number>;
  /** Queued and running jobs of every model, oldest first (what an embedded deployment resumes on start). */
  listUnfinishedJobs(options?: { limit?: number }): Promise<Job[]>;
  /**
   * Atomically claims a queued job, or a running one whose heartbeat is older than `staleAfterMs`
   * (default 60 s; a crashed worker's). Undefined if finished, held by a live worker, or out of attempts
   * (then failed with `{ code: 'attempts_exhausted' }`).
   */
  claimJob(id: string, worker: string, options?: { staleAfterMs?: number }): Promise<Job | undefined>;
  /** Refreshes the owner's heartbeat (and progress); `JobStateError` if `worker` no longer owns the job. */
  heartbeatJob(id: string, worker: string, progress?: JsonObject): Promise<{ cancelRequested: boolean }>;
  /** Appends to the job's event log; `seq` is 1, 2, 3, ... per job. */
  appendJobEvent(id: string, type: string, data: JsonValue): Promise<JobEvent>;
  /** Events after `afterSeq` (default 0), in order (limit default 1000). */
  listJobEvents(id: string, options?: { afterSeq?: number; limit?: number }): Promise<JobEvent[]>;
  /** Ends a running job, by its owner only and only once (`JobStateError` otherwise). */
  finishJob(id: string, worker: string, outcome: JobOutcome): Promise<Job>;
  /** Cancels a queued job at once, flags a running one (seen by its heartbeat); finished jobs are unchanged. */
  requestJobCancel(id: string): Promise<Job>;

  /** Sends `pg_notify(channel, payload)` (channel `^[a-z_][a-z0-9_]{0,62}$`, payload < 8000 bytes). */
  notify(channel: string, payload: string): Promise<void>;
  /**
   * Listens on a channel (alias changes arrive on `ALIAS_CHANNEL`); resolves once subscribed, with the
   * function that unsubscribes. At-most-once delivery: a hint to re-read state, not a queue.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;

  /** Database size and block totals (for `/metrics`). */
  storageStats(): Promise<StorageStats>;
  /** The head version of every model line, across tenants (for scrape-time gauges). */
  modelHeads(): Promise<ModelHead[]>;

  /** Closes the underlying connections (or the embedded database, if the store opened it). */
  close(): Promise<void>;
}

/** Tunables of `createStore`. */
export interface StoreOptions {
  /** Bytes per bulk COPY round (default 32 MiB): larger amortises round trips, smaller bounds memory. */
  readonly chunkBytes?: number;
  /** Generator for replay reservoirs (default mulberry32), built from the persisted state. */
  readonly rng?: RngFactory;
}

/** Builds the store over an opened driver (use `openStore()` unless you hold a driver already). */
export function createStore(driver: StoreDriver, options: StoreOptions = {}): AdapterStore {
  const ctx: StoreContext = {
    driver,
    name: driver.name,
    chunkBytes: options.chunkBytes ?? 32 * 1024 * 1024,
    rng: options.rng ?? mulberry32,
  };
  return {
    driver: driver.name,
    createTenant: (input) => tenants.createTenant(ctx, input),
    getTenant: (id) => tenants.getTenant(ctx, id),
    findTenantByName: (name) => tenants.findTenantByName(ctx, name),
    createModel: (input) => tenants.createModel(ctx, input),
    getModel: (id) => tenants.getModel(ctx, id),
    findModel: (tenantId, name) => tenants.findModel(ctx, tenantId, name),
    listModels: (tenantId) => tenants.listModels(ctx, tenantId),

    commitVersion: (input) => commitLine(ctx, input, { kind: 'model' }),
    getVersion: (id) => versions.getVersion(ctx, id),
    findVersionByJob: (modelId, jobId) => versions.findVersionByJob(ctx, modelId, jobId),
    listVersions: (modelId) => versions.listVersions(ctx, modelId),
    lineage: (versionId) => versions.lineage(ctx, versionId),
    getManifest: (versionId) => versions.getManifest(ctx, versionId),
    loadBlocks: (versionId, opts) => versions.loadBlocks(ctx, versionId, opts),
    async diffVersions(fromId, toId) {
      const [from, to] = [await versions.getManifest(ctx, fromId), await versions.getManifest(ctx, toId)];
      return diffManifests(fromId, toId, from, to);
    },
    verifyVersion: (versionId, opts) => verifyVersion(ctx, versionId, opts),
    deleteVersion: (id) => versions.deleteVersion(ctx, id),
    collectGarbage: () => collectGarbage(ctx),

    createAlias: (input) => aliases.createAlias(ctx, input),
    moveAlias: (input) => aliases.moveAlias(ctx, input),
    rollbackAlias: (input) => aliases.rollbackAlias(ctx, input),
    getAlias: (modelId, name) => aliases.getAlias(ctx, modelId, name),
    listAliases: (modelId) => aliases.listAliases(ctx, modelId),
    aliasHistory: (modelId, name) => aliases.aliasHistory(ctx, modelId, name),

    createAdapter: (input) => adapters.createAdapter(ctx, input),
    findAdapter: (modelId, name) => adapters.findAdapter(ctx, modelId, name),
    commitAdapterVersion: (input) => adapters.commitAdapterVersion(ctx, input),
    loadAdapterVersion: (versionId) => adapters.loadAdapterVersion(ctx, versionId),
    listAdapterKeys: (baseModelId, opts) => adapters.listAdapterKeys(ctx, baseModelId, opts),

    saveRegularization: (input) => regularization.saveRegularization(ctx, input),
    loadRegularization: (versionId, method) => regularization.loadRegularization(ctx, versionId, method),
    listRegularization: (versionId) => regularization.listRegularization(ctx, versionId),

    createStream: (input) => streams.createStream(ctx, input),
    getStream: (id) => streams.getStream(ctx, id),
    findStream: (modelId, name) => streams.findStream(ctx, modelId, name),
    listStreams: (modelId) => streams.listStreams(ctx, modelId),
    recordBatch: (input) => ingest.recordBatch(ctx, input),
    getBatch: (streamId, key) => ingest.getBatch(ctx, streamId, key),
    listBatches: (streamId, opts) => ingest.listBatches(ctx, streamId, opts),
    readBatch: (streamId, key) => records.readBatch(ctx, streamId, key),
    readRecords: (streamId, opts) => records.readRecords(ctx, streamId, opts),
    setBatchStatus: (streamId, key, status) => ingest.setBatchStatus(ctx, streamId, key, status),
    acknowledgeBatch: (streamId, key, opts) => ingest.acknowledgeBatch(ctx, streamId, key, opts),

    configureReplay: (streamId, opts) => replay.configureReplay(ctx, streamId, opts),
    offerReplay: (streamId, items) => replay.offerReplay(ctx, streamId, items),
    replayState: (streamId) => replay.replayState(ctx, streamId),
    loadReplay: (streamId) => replay.loadReplay(ctx, streamId),

    createApiKey: (input) => apiKeys.createApiKey(ctx, input),
    findApiKeyByHash: (keyHash) => apiKeys.findApiKeyByHash(ctx, keyHash),
    listApiKeys: (tenantId) => apiKeys.listApiKeys(ctx, tenantId),
    revokeApiKey: (id) => apiKeys.revokeApiKey(ctx, id),
    countApiKeys: (opts) => apiKeys.countApiKeys(ctx, opts),

    createJob: (input) => jobs.createJob(ctx, input),
    getJob: (id) => jobs.getJob(ctx, id),
    listJobs: (modelId, opts) => jobs.listJobs(ctx, modelId, opts),
    countJobs: (opts) => jobs.countJobs(ctx, opts),
    listUnfinishedJobs: (opts) => jobs.listUnfinishedJobs(ctx, opts),
    claimJob: (id, worker, opts) => jobs.claimJob(ctx, id, worker, opts),
    heartbeatJob: (id, worker, progress) => jobs.heartbeatJob(ctx, id, worker, progress),
    appendJobEvent: (id, type, data) => jobEvents.appendJobEvent(ctx, id, type, data),
    listJobEvents: (id, opts) => jobEvents.listJobEvents(ctx, id, opts),
    finishJob: (id, worker, outcome) => jobs.finishJob(ctx, id, worker, outcome),
    requestJobCancel: (id) => jobs.requestJobCancel(ctx, id),

    notify: (channel, payload) => notifications.notify(ctx, channel, payload),
    listen: (channel, onPayload) => notifications.listen(ctx, channel, onPayload),

    storageStats: () => storageStats(ctx),
    modelHeads: () => modelHeads(ctx),

    close: () => driver.close(),
  };
}
