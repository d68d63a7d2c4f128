import { randomUUID } from 'node:crypto';
import { and, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../drivers/driver.js';
import { JobStateError, NotFoundError, StoreValidationError } from '../errors.js';
import { jobs, versions } from '../schema/index.js';
import type { JsonObject, JsonValue } from '../types.js';
import type { Job, JobKind, JobOutcome, JobStatus } from '../types-jobs.js';
import { checkId, checkInt, checkJson, checkLabel, checkOneOf } from '../validation.js';
import { guard, type StoreContext } from './context.js';
import { toJob } from './rows.js';
import { getModel } from './tenants.js';

/** The kinds of job. */
export const JOB_KINDS: readonly JobKind[] = ['train', 'train-adapter'];
/** Every job status. */
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
/** The final statuses: a job in one of them is never changed again. */
export const FINAL_JOB_STATUSES: readonly JobOutcome['status'][] = ['succeeded', 'failed', 'cancelled'];
/**
 * Default of `claimJob`'s `staleAfterMs`: a running job whose last heartbeat is older than this is taken
 * to belong to a crashed worker and may be claimed again. Workers should heartbeat several times within it.
 */
export const DEFAULT_JOB_STALE_AFTER_MS = 60_000;
/** Most claims a job may allow. */
export const MAX_JOB_ATTEMPTS = 100;
/** Longest worker id. */
const MAX_WORKER_LENGTH = 200;

/** Queues a job for a model of the tenant. */
export async function createJob(
  ctx: StoreContext,
  input: { tenantId: string; modelId: string; kind: JobKind; spec: JsonValue; maxAttempts?: number },
): Promise<Job> {
  const tenantId = checkId(ctx.name, 'tenantId', input?.tenantId);
  const modelId = checkId(ctx.name, 'modelId', input.modelId);
  const kind = checkOneOf(ctx.name, 'kind', input.kind, JOB_KINDS);
  checkPresentJson(ctx, 'spec', input.spec);
  const maxAttempts = checkInt(ctx.name, 'maxAttempts', input.maxAttempts ?? 3, 1, MAX_JOB_ATTEMPTS);
  return guard(ctx, 'createJob', async () => {
    const model = await getModel(ctx, modelId);
    if (model.tenantId !== tenantId) {
      throw new StoreValidationError(ctx.name, 'modelId', `a model of tenant ${tenantId}`, modelId);
    }
    const [row] = await ctx.driver.db
      .insert(jobs)
      .values({ id: randomUUID(), tenantId, modelId, kind, spec: input.spec, maxAttempts })
      .returning();
    if (!row) throw new Error('insert into jobs returned no row');
    return toJob(row);
  });
}

/** A job by id, or `NotFoundError`. */
export async function getJob(ctx: StoreContext, id: string): Promise<Job> {
  checkId(ctx.name, 'jobId', id);
  return guard(ctx, 'getJob', async () => {
    const [row] = await ctx.driver.db.select().from(jobs).where(eq(jobs.id, id));
    if (!row) throw new NotFoundError(ctx.name, 'job', id);
    return toJob(row);
  });
}

/** A model's jobs, newest first (optionally only those with one status). */
export async function listJobs(
  ctx: StoreContext,
  modelId: string,
  options: { status?: JobStatus; limit?: number } = {},
): Promise<Job[]> {
  checkId(ctx.name, 'modelId', modelId);
  const status =
    options.status === undefined ? undefined : checkOneOf(ctx.name, 'status', options.status, JOB_STATUSES);
  const limit = checkInt(ctx.name, 'limit', options.limit ?? 100, 1, 10_000);
  return guard(ctx, 'listJobs', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.modelId, modelId), status === undefined ? undefined : eq(jobs.status, status)))
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(limit);
    return rows.map(toJob);
  });
}

/**
 * Jobs of every model that are not finished (`queued` or `running`), oldest first: what an embedded
 * deployment must resume after a restart, since no other process holds its queue.
 */
export async function listUnfinishedJobs(
  ctx: StoreContext,
  options: { limit?: number } = {},
): Promise<Job[]> {
  const limit = checkInt(ctx.name, 'limit', options.limit ?? 1000, 1, 100_000);
  return guard(ctx, 'listUnfinishedJobs', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(jobs)
      .where(inArray(jobs.status, ['queued', 'running']))
      .orderBy(jobs.createdAt, jobs.id)
      .limit(limit);
    return rows.map(toJob);
  });
}

/** How many jobs, of all models, have one of the statuses (e.g. the queue depth). */
export async function countJobs(
  ctx: StoreContext,
  options: { statuses: readonly JobStatus[] },
): Promise<number> {
  const given = options?.statuses;
  if (!Array.isArray(given) || given.length === 0) {
    throw new StoreValidationError(ctx.name, 'statuses', 'a non-empty array of job statuses', given);
  }
  const statuses = given.map((s, i) => checkOneOf(ctx.name, `statuses[${i}]`, s, JOB_STATUSES));
  return guard(ctx, 'countJobs', async () => {
    const [row] = await ctx.driver.db.select({ n: count() }).from(jobs).where(inArray(jobs.status, statuses));
    return row?.n ?? 0;
  });
}

/**
 * Claims a job for `worker`: a `queued` job, or a `running` one whose heartbeat is older than
 * `staleAfterMs` (its worker crashed), becomes `running` with one more attempt. Returns undefined —
 * and claims nothing — when the job is finished, held by a live worker, or out of attempts (it is then
 * failed with `{ code: 'attempts_exhausted' }`). A stale job whose cancel was requested is cancelled
 * rather than run again. Staleness is judged by the database clock, the clock heartbeats are written with.
 */
export async function claimJob(
  ctx: StoreContext,
  id: string,
  worker: string,
  options: { staleAfterMs?: number } = {},
): Promise<Job | undefined> {
  checkId(ctx.name, 'jobId', id);
  checkLabel(ctx.name, 'worker', worker, MAX_WORKER_LENGTH);
  const staleAfterMs = checkInt(
    ctx.name,
    'staleAfterMs',
    options.staleAfterMs ?? DEFAULT_JOB_STALE_AFTER_MS,
    0,
    7 * 24 * 3600 * 1000,
  );
  return guard(ctx, 'claimJob', () =>
    ctx.driver.transaction(async (tx) => {
      // The row lock serialises claims: of two workers claiming one job, the second sees the first's claim.
      const [locked] = await tx.db
        .select({
          job: jobs,
          stale: sql<boolean>`coalesce(${jobs.heartbeatAt} < now() - make_interval(secs => ${staleAfterMs}::double precision / 1000), true)`,
        })
        .from(jobs)
        .where(eq(jobs.id, id))
        .for('update');
      if (!locked) throw new NotFoundError(ctx.name, 'job', id);
      const { job, stale } = locked;
      if (job.status !== 'queued' && !(job.status === 'running' && stale)) return undefined;
      if (job.cancelRequested) {
        // Only a running job carries a pending cancel (a queued one is cancelled at once): its worker died
        // before honouring it, so the cancel completes here instead of the job training again.
        await finishRow(tx.db, id, { status: 'cancelled' });
        return undefined;
      }
      if (job.attempts >= job.maxAttempts) {
        await finishRow(tx.db, id, {
          status: 'failed',
          error: { code: 'attempts_exhausted', attempts: job.attempts, maxAttempts: job.maxAttempts },
        });
        return undefined;
      }
      const [row] = await tx.db
        .update(jobs)
        .set({
          status: 'running',
          attempts: sql`${jobs.attempts} + 1`,
          worker,
          startedAt: sql`now()`,
          heartbeatAt: sql`now()`,
        })
        .where(eq(jobs.id, id))
        .returning();
      if (!row) throw new Error('job vanished under its row lock');
      return toJob(row);
    }),
  );
}

/**
 * Records that `worker` is still running the job (and, optionally, its progress). Tells the worker
 * whether a cancel was requested; a job the worker no longer owns (finished, or taken over after its
 * heartbeat went stale) is `JobStateError`, and the worker must stop.
 */
export async function heartbeatJob(
  ctx: StoreContext,
  id: string,
  worker: string,
  progress?: JsonObject,
): Promise<{ cancelRequested: boolean }> {
  checkId(ctx.name, 'jobId', id);
  checkLabel(ctx.name, 'worker', worker, MAX_WORKER_LENGTH);
  if (progress !== undefined) checkObject(ctx, 'progress', progress);
  return guard(ctx, 'heartbeatJob', async () => {
    const [row] = await ctx.driver.db
      .update(jobs)
      .set({ heartbeatAt: sql`now()`, ...(progress === undefined ? {} : { progress }) })
      .where(and(eq(jobs.id, id), eq(jobs.status, 'running'), eq(jobs.worker, worker)))
      .returning({ cancelRequested: jobs.cancelRequested });
    if (row) return { cancelRequested: row.cancelRequested };
    const [current] = await ctx.driver.db.select().from(jobs).where(eq(jobs.id, id));
    if (!current) throw new NotFoundError(ctx.name, 'job', id);
    throw new JobStateError(ctx.name, 'heartbeatJob', id, current.status, current.worker);
  });
}

/**
 * Ends a running job. Only its owning worker may, and only once: a job that is not running, or owned
 * by another worker, is `JobStateError` (so a final state is never overwritten). `resultVersionId` is
 * allowed with `succeeded` only.
 */
export async function finishJob(
  ctx: StoreContext,
  id: string,
  worker: string,
  outcome: JobOutcome,
): Promise<Job> {
  checkId(ctx.name, 'jobId', id);
  checkLabel(ctx.name, 'worker', worker, MAX_WORKER_LENGTH);
  const status = checkOneOf(ctx.name, 'status', outcome?.status, FINAL_JOB_STATUSES);
  const resultVersionId =
    outcome.resultVersionId === undefined
      ? undefined
      : checkId(ctx.name, 'resultVersionId', outcome.resultVersionId);
  if (resultVersionId !== undefined && status !== 'succeeded') {
    throw new StoreValidationError(
      ctx.name,
      'resultVersionId',
      "absent unless status is 'succeeded'",
      resultVersionId,
    );
  }
  if (outcome.error !== undefined) checkJson(ctx.name, 'error', outcome.error);
  return guard(ctx, 'finishJob', () =>
    ctx.driver.transaction(async (tx) => {
      const [job] = await tx.db.select().from(jobs).where(eq(jobs.id, id)).for('update');
      if (!job) throw new NotFoundError(ctx.name, 'job', id);
      if (job.status !== 'running' || job.worker !== worker) {
        throw new JobStateError(ctx.name, 'finishJob', id, job.status, job.worker);
      }
      if (resultVersionId !== undefined) {
        const [version] = await tx.db
          .select({ id: versions.id })
          .from(versions)
          .where(eq(versions.id, resultVersionId));
        if (!version) throw new NotFoundError(ctx.name, 'version', resultVersionId);
      }
      const row = await finishRow(tx.db, id, {
        status,
        ...(resultVersionId === undefined ? {} : { resultVersionId }),
        ...(outcome.error === undefined ? {} : { error: outcome.error }),
      });
      return toJob(row);
    }),
  );
}

/**
 * Asks for a job to stop: a queued job is cancelled at once; a running one gets `cancelRequested`,
 * which its worker sees on its next heartbeat (it then finishes the job as `cancelled`). A finished job
 * is returned unchanged.
 */
export async function requestJobCancel(ctx: StoreContext, id: string): Promise<Job> {
  checkId(ctx.name, 'jobId', id);
  return guard(ctx, 'requestJobCancel', async () => {
    // One conditional UPDATE: under READ COMMITTED it re-checks the status after waiting for a concurrent
    // claim, so a job being claimed right now is either cancelled before or flagged after the claim.
    const queued = sql`${jobs.status} = 'queued'`;
    const [row] = await ctx.driver.db
      .update(jobs)
      .set({
        status: sql`case when ${queued} then 'cancelled' else ${jobs.status} end`,
        finishedAt: sql`case when ${queued} then now() else ${jobs.finishedAt} end`,
        cancelRequested: true,
      })
      .where(and(eq(jobs.id, id), inArray(jobs.status, ['queued', 'running'])))
      .returning();
    if (row) return toJob(row);
    return getJob(ctx, id);
  });
}

/** Moves a locked job to a final status. */
async function finishRow(
  db: Db,
  id: string,
  outcome: { status: JobOutcome['status']; resultVersionId?: string; error?: JsonValue },
) {
  const [row] = await db
    .update(jobs)
    .set({
      status: outcome.status,
      finishedAt: sql`now()`,
      ...(outcome.resultVersionId === undefined ? {} : { resultVersionId: outcome.resultVersionId }),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    })
    .where(eq(jobs.id, id))
    .returning();
  if (!row) throw new Error('job vanished under its row lock');
  return row;
}

/** JSON that is not null: the columns are NOT NULL, and drizzle would send a JS null as SQL NULL. */
export function checkPresentJson(ctx: StoreContext, field: string, value: unknown): void {
  if (value === null || value === undefined) {
    throw new StoreValidationError(ctx.name, field, 'a JSON value other than null', value);
  }
  checkJson(ctx.name, field, value);
}

function checkObject(ctx: StoreContext, field: string, value: unknown): void {
  checkJson(ctx.name, field, value);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new StoreValidationError(ctx.name, field, 'a JSON object', value);
  }
}
