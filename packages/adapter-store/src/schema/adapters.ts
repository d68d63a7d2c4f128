import { doublePrecision, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { bytea } from './bytea.js';
import { versions } from './versions.js';

/**
 * LoRA metadata of an adapter version. The adapter itself is a `models` row of kind 'adapter' and its
 * A/B matrices are ordinary blocks (`lora.A`, `lora.B`) of the version, so adapters are versioned,
 * aliased, diffed and garbage-collected exactly like models. The retrieval key (float32 little-endian)
 * is kept here, not in a block, so "auto" adapter selection can list all keys with one small query.
 */
export const adapterVersions = pgTable('adapter_versions', {
  versionId: uuid('version_id')
    .primaryKey()
    .references(() => versions.id, { onDelete: 'cascade' }),
  targetLayer: text('target_layer').notNull(),
  rank: integer('rank').notNull(),
  alpha: doublePrecision('alpha').notNull(),
  dIn: integer('d_in').notNull(),
  dOut: integer('d_out').notNull(),
  retrievalKey: bytea('retrieval_key').notNull(),
  keyDim: integer('key_dim').notNull(),
});
