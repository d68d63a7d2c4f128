import { z } from '@hono/zod-openapi';
import type { Alias, AliasMove, ManifestEntry, Version, VersionDiff } from '@peer/adapter-store';

/** A version as listed: everything but the (large) expert-usage grids of its metrics. */
export function versionSummary(v: Version) {
  const { usage: _usage, ...metrics } = v.metrics;
  return {
    id: v.id,
    seq: v.seq,
    parentId: v.parentId,
    contentHash: v.contentHash,
    message: v.message,
    author: v.author,
    createdAt: v.createdAt.toISOString(),
    blockCount: v.blockCount,
    totalBytes: v.totalBytes,
    lineage: {
      streamId: v.lineage.streamId,
      ingestFrom: v.lineage.ingestFrom,
      ingestTo: v.lineage.ingestTo,
      extra: v.lineage.extra,
    },
    metrics,
  };
}

/** A manifest entry without its bytes. */
export function blockView(e: ManifestEntry) {
  return { name: e.name, dtype: e.dtype, shape: [...e.shape], bytes: e.byteLength, hash: e.hash };
}

/** What a diff reports, with both ends as `{id, seq}`. */
export function diffView(diff: VersionDiff, from: Version, to: Version) {
  return {
    from: { id: from.id, seq: from.seq, contentHash: from.contentHash },
    to: { id: to.id, seq: to.seq, contentHash: to.contentHash },
    identical: from.contentHash === to.contentHash,
    added: diff.added.map(blockView),
    removed: diff.removed.map(blockView),
    changed: diff.changed.map((c) => ({ name: c.to.name, from: blockView(c.from), to: blockView(c.to) })),
    unchanged: diff.unchanged,
    rows: diff.rows.map((r) => ({ table: r.table, ranges: r.ranges.map(([a, b]) => [a, b]) })),
  };
}

/** An alias with the version it points to. */
export function aliasView(alias: Alias, version: Version | undefined) {
  return {
    name: alias.name,
    versionId: alias.versionId,
    seq: version?.seq ?? null,
    contentHash: version?.contentHash ?? null,
    updatedAt: alias.updatedAt.toISOString(),
  };
}

/** One logged alias move, with sequence numbers of both ends where known. */
export function aliasMoveView(move: AliasMove, seqOf: (id: string | null) => number | null) {
  return {
    id: move.id,
    fromVersionId: move.fromVersionId,
    fromSeq: seqOf(move.fromVersionId),
    toVersionId: move.toVersionId,
    toSeq: seqOf(move.toVersionId),
    actor: move.actor,
    reason: move.reason,
    at: move.at.toISOString(),
  };
}

const Json = z.record(z.string(), z.unknown());

export const VersionSummarySchema = z
  .object({
    id: z.string(),
    seq: z.number(),
    parentId: z.string().nullable(),
    contentHash: z.string(),
    message: z.string(),
    author: z.string(),
    createdAt: z.string(),
    blockCount: z.number(),
    totalBytes: z.number(),
    lineage: z.object({
      streamId: z.string().nullable(),
      ingestFrom: z.number().nullable(),
      ingestTo: z.number().nullable(),
      extra: Json,
    }),
    metrics: Json,
  })
  .openapi('VersionSummary');

export const BlockSchema = z
  .object({
    name: z.string(),
    dtype: z.string(),
    shape: z.array(z.number()),
    bytes: z.number(),
    hash: z.string(),
  })
  .openapi('Block');

const VersionEnd = z.object({ id: z.string(), seq: z.number(), contentHash: z.string() });

export const DiffSchema = z
  .object({
    from: VersionEnd,
    to: VersionEnd,
    identical: z.boolean(),
    added: z.array(BlockSchema),
    removed: z.array(BlockSchema),
    changed: z.array(z.object({ name: z.string(), from: BlockSchema, to: BlockSchema })),
    unchanged: z.number(),
    rows: z.array(z.object({ table: z.string(), ranges: z.array(z.array(z.number())) })),
  })
  .openapi('VersionDiff');

export const AliasSchema = z
  .object({
    name: z.string(),
    versionId: z.string(),
    seq: z.number().nullable(),
    contentHash: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi('Alias');

export const AliasMoveSchema = z
  .object({
    id: z.number(),
    fromVersionId: z.string().nullable(),
    fromSeq: z.number().nullable(),
    toVersionId: z.string().nullable(),
    toSeq: z.number().nullable(),
    actor: z.string(),
    reason: z.string(),
    at: z.string(),
  })
  .openapi('AliasMove');
