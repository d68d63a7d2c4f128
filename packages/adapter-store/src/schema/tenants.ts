import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  check,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { versions } from './versions.js';

/** A customer; every model (and through it every version, stream and adapter) belongs to one. */
export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull().unique('tenants_name_unique'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * A versioned line of blocks. `kind = 'adapter'` rows are LoRA adapters of `base_model_id`: they reuse
 * the whole version machinery (commit, head, aliases, diff, GC) instead of duplicating it.
 *
 * `head_version_id` is the optimistic-concurrency pointer: a commit must name the head it saw, and the
 * conditional UPDATE that advances it is what makes a stale commit a conflict instead of a lost update.
 * `version_count` hands out the per-line sequence numbers under the same row lock.
 */
export const models = pgTable(
  'models',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    kind: text('kind').notNull().default('model'),
    baseModelId: uuid('base_model_id').references((): AnyPgColumn => models.id),
    name: text('name').notNull(),
    config: jsonb('config').notNull(),
    headVersionId: uuid('head_version_id').references((): AnyPgColumn => versions.id),
    versionCount: integer('version_count').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check('models_kind_check', sql`${t.kind} in ('model', 'adapter')`),
    check('models_base_check', sql`(${t.kind} = 'adapter') = (${t.baseModelId} is not null)`),
    uniqueIndex('models_tenant_name_unique').on(t.tenantId, t.name).where(sql`${t.kind} = 'model'`),
    uniqueIndex('models_base_name_unique').on(t.baseModelId, t.name).where(sql`${t.kind} = 'adapter'`),
  ],
);
