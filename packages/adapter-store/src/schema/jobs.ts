import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { models, tenants } from './tenants.js';
import { versions } from './versions.js';

/**
 * Durable training jobs: the queue is this table. A worker claims a job under its row lock (`queued`, or
 * `running` with a stale heartbeat = a crashed worker's), heartbeats while it runs, and finishes it once;
 * every state change is a conditional UPDATE, so two workers can never both own or both finish a job.
 * `last_event_seq` hands out the per-job event numbers under the same row lock (like
 * `models.version_count`). The result version is `on delete set null`: pruning an old version must not be
 * blocked by the history of the job that produced it.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id),
    modelId: uuid('model_id')
      .notNull()
      .references(() => models.id),
    kind: text('kind').notNull(),
    spec: jsonb('spec').notNull(),
    status: text('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(3),
    worker: text('worker'),
    progress: jsonb('progress').notNull().default({}),
    resultVersionId: uuid('result_version_id').references(() => versions.id, { onDelete: 'set null' }),
    error: jsonb('error'),
    cancelRequested: boolean('cancel_requested').notNull().default(false),
    lastEventSeq: integer('last_event_seq').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('jobs_model_created_idx').on(t.modelId, t.createdAt),
    index('jobs_status_idx').on(t.status),
    check('jobs_kind_check', sql`${t.kind} in ('train', 'train-adapter')`),
    check('jobs_status_check', sql`${t.status} in ('queued', 'running', 'succeeded', 'failed', 'cancelled')`),
    check('jobs_attempts_check', sql`${t.attempts} >= 0 and ${t.maxAttempts} >= 1`),
  ],
);

/** A job's append-only event log (progress, metrics, log lines), numbered 1, 2, 3, ... per job. */
export const jobEvents = pgTable(
  'job_events',
  {
    jobId: uuid('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'job_events_pk', columns: [t.jobId, t.seq] })],
);
