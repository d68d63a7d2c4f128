import type { BlockDType } from '@peer/core/serialization';
import type { InferSelectModel } from 'drizzle-orm';
import type {
  aliases,
  aliasLog,
  apiKeys,
  jobEvents,
  jobs,
  models,
  tenants,
  versionBlocks,
  versions,
} from '../schema/index.js';
import type {
  Alias,
  AliasMove,
  JsonObject,
  JsonValue,
  ManifestEntry,
  Model,
  Tenant,
  Version,
} from '../types.js';
import type { ApiKeyRecord, ApiKeyScope, Job, JobEvent, JobKind, JobStatus } from '../types-jobs.js';

/** Row → public type mappers: the only place that knows column-to-field naming. */
export function toTenant(row: InferSelectModel<typeof tenants>): Tenant {
  return { id: row.id, name: row.name, createdAt: row.createdAt };
}

export function toModel(row: InferSelectModel<typeof models>): Model {
  return {
    id: row.id,
    tenantId: row.tenantId,
    kind: row.kind === 'adapter' ? 'adapter' : 'model',
    baseModelId: row.baseModelId,
    name: row.name,
    config: row.config as JsonValue,
    headVersionId: row.headVersionId,
    versionCount: row.versionCount,
    createdAt: row.createdAt,
  };
}

export function toVersion(row: InferSelectModel<typeof versions>): Version {
  return {
    id: row.id,
    modelId: row.modelId,
    parentId: row.parentId,
    seq: row.seq,
    config: row.config as JsonValue,
    lineage: {
      streamId: row.streamId,
      ingestFrom: row.ingestFrom,
      ingestTo: row.ingestTo,
      extra: row.lineage as JsonObject,
    },
    metrics: row.metrics as JsonObject,
    message: row.message,
    author: row.author,
    blockCount: row.blockCount,
    totalBytes: row.totalBytes,
    contentHash: row.contentHash,
    createdAt: row.createdAt,
  };
}

export function toManifestEntry(
  row: Pick<InferSelectModel<typeof versionBlocks>, 'name' | 'blockHash' | 'dtype' | 'shape' | 'byteLength'>,
): ManifestEntry {
  return {
    name: row.name,
    hash: row.blockHash,
    dtype: row.dtype as BlockDType,
    shape: row.shape,
    byteLength: row.byteLength,
  };
}

export function toAlias(row: InferSelectModel<typeof aliases>): Alias {
  return { modelId: row.modelId, name: row.name, versionId: row.versionId, updatedAt: row.updatedAt };
}

export function toAliasMove(row: InferSelectModel<typeof aliasLog>): AliasMove {
  return {
    id: row.id,
    modelId: row.modelId,
    name: row.name,
    fromVersionId: row.fromVersionId,
    toVersionId: row.toVersionId,
    actor: row.actor,
    reason: row.reason,
    at: row.at,
  };
}

export function toApiKey(row: InferSelectModel<typeof apiKeys>): ApiKeyRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    scope: row.scope as ApiKeyScope, // the check constraint guarantees it
    prefix: row.prefix,
    keyHash: row.keyHash,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

export function toJob(row: InferSelectModel<typeof jobs>): Job {
  return {
    id: row.id,
    tenantId: row.tenantId,
    modelId: row.modelId,
    kind: row.kind as JobKind, // the check constraints guarantee kind and status
    spec: row.spec as JsonValue,
    status: row.status as JobStatus,
    attempts: row.attempts,
    maxAttempts: row.maxAttempts,
    worker: row.worker,
    progress: row.progress as JsonValue,
    resultVersionId: row.resultVersionId,
    error: (row.error ?? null) as JsonValue | null,
    cancelRequested: row.cancelRequested,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    heartbeatAt: row.heartbeatAt,
    finishedAt: row.finishedAt,
  };
}

export function toJobEvent(row: InferSelectModel<typeof jobEvents>): JobEvent {
  return {
    jobId: row.jobId,
    seq: row.seq,
    type: row.type,
    data: row.data as JsonValue,
    createdAt: row.createdAt,
  };
}
