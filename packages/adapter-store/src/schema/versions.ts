import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { blocks } from './blocks.js';
import { streams } from './streams.js';
import { models } from './tenants.js';

/**
 * An immutable commit of a model (or adapter) line. Versions form a tree through `parent_id`; `seq` numbers
 * them per line in commit order. Lineage says which stream and ingest offset range produced it.
 * `content_hash` is the sha256 of the sorted manifest, so two versions with the same blocks have the
 * same content hash (cache keys should use it, not names). UPDATE is refused by a trigger.
 * `lineage` holds `Lineage.extra`; a `jobId` in it is unique, so a training job can commit at most once
 * even when two attempts of it race (the index decides, `commitLine` maps the violation).
 */
export const versions = pgTable(
  'versions',
  {
    id: uuid('id').primaryKey(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    parentId: uuid('parent_id').references((): AnyPgColumn => versions.id),
    seq: integer('seq').notNull(),
    config: jsonb('config').notNull(),
    streamId: uuid('stream_id').references(() => streams.id),
    ingestFrom: bigint('ingest_from', { mode: 'number' }),
    ingestTo: bigint('ingest_to', { mode: 'number' }),
    lineage: jsonb('lineage').notNull(),
    metrics: jsonb('metrics').notNull(),
    message: text('message').notNull(),
    author: text('author').notNull(),
    blockCount: integer('block_count').notNull(),
    totalBytes: bigint('total_bytes', { mode: 'number' }).notNull(),
    contentHash: text('content_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    unique('versions_model_seq_unique').on(t.modelId, t.seq),
    index('versions_parent_idx').on(t.parentId),
    check('versions_seq_check', sql`${t.seq} >= 1`),
    uniqueIndex('versions_job_unique')
      .on(sql`(${t.lineage} ->> 'jobId')`)
      .where(sql`(${t.lineage} ->> 'jobId') is not null`),
  ],
);

/** The manifest of a version: every named block it consists of (copy-on-write: unchanged names point at the parent's hashes). */
export const versionBlocks = pgTable(
  'version_blocks',
  {
    versionId: uuid('version_id')
      .notNull()
      .references(() => versions.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => blocks.hash),
    dtype: text('dtype').notNull(),
    shape: jsonb('shape').$type<number[]>().notNull(),
    byteLength: bigint('byte_length', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'version_blocks_pk', columns: [t.versionId, t.name] }),
    index('version_blocks_hash_idx').on(t.blockHash),
    check('version_blocks_dtype_check', sql`${t.dtype} in ('float32', 'int32', 'uint8')`),
  ],
);

/** Named mutable pointers (`production`, `staging`, ...) — the only thing a rollback moves. */
export const aliases = pgTable(
  'aliases',
  {
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    name: text('name').notNull(),
    versionId: uuid('version_id')
      .notNull()
      .references(() => versions.id),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'aliases_pk', columns: [t.modelId, t.name] })],
);

/**
 * Append-only history of alias moves (who, when, from, to, why). The version ids are deliberately not
 * foreign keys: history must outlive a pruned version. UPDATE and DELETE are refused by a trigger.
 */
export const aliasLog = pgTable(
  'alias_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    name: text('name').notNull(),
    fromVersionId: uuid('from_version_id'),
    toVersionId: uuid('to_version_id'),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('alias_log_model_name_idx').on(t.modelId, t.name, t.id)],
);
