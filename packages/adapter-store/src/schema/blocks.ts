import { sql } from 'drizzle-orm';
import { bigint, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { bytea } from './bytea.js';

/**
 * Content-addressed tensor bytes: the primary key is the sha256 (hex) of `data`, so identical slices
 * are stored once and a row is only ever inserted if absent. dtype and shape are *not* part of the
 * identity (the same bytes may be viewed under different shapes); they live on each reference
 * (`version_blocks`, `regularization_blocks`). `data` uses STORAGE EXTERNAL (custom migration): fp32
 * weights barely compress, and skipping pglz keeps writes fast and storage exactly proportional to bytes.
 */
export const blocks = pgTable(
  'blocks',
  {
    hash: text('hash').primaryKey(),
    byteLength: bigint('byte_length', { mode: 'number' }).notNull(),
    data: bytea('data').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check('blocks_hash_check', sql`${t.hash} ~ '^[0-9a-f]{64}$'`),
    check('blocks_length_check', sql`octet_length(${t.data}) = ${t.byteLength}`),
  ],
);
