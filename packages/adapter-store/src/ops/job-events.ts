import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { NotFoundError } from '../errors.js';
import { jobEvents, jobs } from '../schema/index.js';
import type { JsonValue } from '../types.js';
import type { JobEvent } from '../types-jobs.js';
import { checkId, checkInt, checkName } from '../validation.js';
import { guard, type StoreContext } from './context.js';
import { checkPresentJson } from './jobs.js';
import { toJobEvent } from './rows.js';

/**
 * Appends an event to a job's log. Its `seq` comes from the job row's counter, bumped under the row lock
 * in the same transaction, so events of one job are numbered 1, 2, 3, ... without gaps or duplicates even
 * when appended concurrently, and a reader paging with `afterSeq` never skips one that commits late.
 */
export async function appendJobEvent(
  ctx: StoreContext,
  id: string,
  type: string,
  data: JsonValue,
): Promise<JobEvent> {
  checkId(ctx.name, 'jobId', id);
  checkName(ctx.name, 'type', type);
  checkPresentJson(ctx, 'data', data);
  return guard(ctx, 'appendJobEvent', () =>
    ctx.driver.transaction(async (tx) => {
      const [bumped] = await tx.db
        .update(jobs)
        .set({ lastEventSeq: sql`${jobs.lastEventSeq} + 1` })
        .where(eq(jobs.id, id))
        .returning({ seq: jobs.lastEventSeq });
      if (!bumped) throw new NotFoundError(ctx.name, 'job', id);
      const [row] = await tx.db
        .insert(jobEvents)
        .values({ jobId: id, seq: bumped.seq, type, data })
        .returning();
      if (!row) throw new Error('insert into job_events returned no row');
      return toJobEvent(row);
    }),
  );
}

/** A job's events after `afterSeq` (default 0: from the first), in order. */
export async function listJobEvents(
  ctx: StoreContext,
  id: string,
  options: { afterSeq?: number; limit?: number } = {},
): Promise<JobEvent[]> {
  checkId(ctx.name, 'jobId', id);
  const afterSeq = checkInt(ctx.name, 'afterSeq', options.afterSeq ?? 0, 0, 2 ** 31 - 1);
  const limit = checkInt(ctx.name, 'limit', options.limit ?? 1000, 1, 100_000);
  return guard(ctx, 'listJobEvents', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(jobEvents)
      .where(and(eq(jobEvents.jobId, id), gt(jobEvents.seq, afterSeq)))
      .orderBy(asc(jobEvents.seq))
      .limit(limit);
    if (rows.length === 0) {
      // Nothing new, or no such job: only the second is an error.
      const [job] = await ctx.driver.db.select({ id: jobs.id }).from(jobs).where(eq(jobs.id, id));
      if (!job) throw new NotFoundError(ctx.name, 'job', id);
    }
    return rows.map(toJobEvent);
  });
}
