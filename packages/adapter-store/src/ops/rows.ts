import type { BlockDType } from '@peer/core/serialization';
import type { InferSelectModel } from 'drizzle-orm';
import type { aliases, aliasLog, models, tenants, versionBlocks, versions } from '../schema/index.js';
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
