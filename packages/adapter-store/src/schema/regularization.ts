import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  foreignKey,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { blocks } from './blocks.js';
import { versions } from './versions.js';

/**
 * Forgetting-control state attached to a version, one row per method (`ewc`, `l2sp`, ...): the JSON meta
 * (lambda, decay, sample count) here, the tensors (anchor weights, Fisher diagonals) as content-addressed
 * blocks below — an anchor equal to the version's own weights is then stored zero extra times.
 */
export const regularizationStates = pgTable(
  'regularization_states',
  {
    versionId: uuid('version_id')
      .notNull()
      .references(() => versions.id, { onDelete: 'cascade' }),
    method: text('method').notNull(),
    meta: jsonb('meta').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'regularization_states_pk', columns: [t.versionId, t.method] })],
);

/** Named tensors of one regularization state. */
export const regularizationBlocks = pgTable(
  'regularization_blocks',
  {
    versionId: uuid('version_id').notNull(),
    method: text('method').notNull(),
    name: text('name').notNull(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => blocks.hash),
    dtype: text('dtype').notNull(),
    shape: jsonb('shape').$type<number[]>().notNull(),
    byteLength: bigint('byte_length', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'regularization_blocks_pk', columns: [t.versionId, t.method, t.name] }),
    foreignKey({
      name: 'regularization_blocks_state_fk',
      columns: [t.versionId, t.method],
      foreignColumns: [regularizationStates.versionId, regularizationStates.method],
    }).onDelete('cascade'),
    index('regularization_blocks_hash_idx').on(t.blockHash),
    check('regularization_blocks_dtype_check', sql`${t.dtype} in ('float32', 'int32', 'uint8')`),
  ],
);
