import { and, asc, eq, gte, sql } from 'drizzle-orm';
import { BlockIntegrityError, NotFoundError } from '../errors.js';
import { streamRecords } from '../schema/index.js';
import type { JsonValue } from '../types.js';
import type { BatchReceipt, StreamRecord } from '../types-data.js';
import { checkId, checkInt, checkKey } from '../validation.js';
import { guard, type StoreContext } from './context.js';
import { batchChecksum, batchRecordTexts, findBatch, toReceipt } from './ingest.js';

/** A stream's records from `fromOffset` on, in offset order (what the trainer reads). */
export async function readRecords(
  ctx: StoreContext,
  streamId: string,
  options: { fromOffset?: number; limit?: number } = {},
): Promise<StreamRecord[]> {
  checkId(ctx.name, 'streamId', streamId);
  const from = checkInt(ctx.name, 'fromOffset', options.fromOffset ?? 0);
  const limit = checkInt(ctx.name, 'limit', options.limit ?? 10_000, 1, 1_000_000);
  return guard(ctx, 'readRecords', async () => {
    const rows = await ctx.driver.db
      .select({ offset: streamRecords.offset, text: sql<string>`${streamRecords.data}::text` })
      .from(streamRecords)
      .where(and(eq(streamRecords.streamId, streamId), gte(streamRecords.offset, from)))
      .orderBy(asc(streamRecords.offset))
      .limit(limit);
    return rows.map((r) => ({ offset: r.offset, data: JSON.parse(r.text) as JsonValue }));
  });
}

/**
 * One batch with its records, after re-verifying the checksum over the stored record texts (a
 * mismatch is a `BlockIntegrityError` naming the batch).
 */
export async function readBatch(
  ctx: StoreContext,
  streamId: string,
  idempotencyKey: string,
): Promise<{ receipt: BatchReceipt; records: StreamRecord[] }> {
  checkId(ctx.name, 'streamId', streamId);
  checkKey(ctx.name, 'idempotencyKey', idempotencyKey);
  return guard(ctx, 'readBatch', async () => {
    const row = await findBatch(ctx.driver.db, streamId, idempotencyKey);
    if (!row) throw new NotFoundError(ctx.name, 'batch', `${streamId}/${idempotencyKey}`);
    const rows = await batchRecordTexts(ctx.driver.db, streamId, row);
    const texts = rows.map((r) => r.text);
    const actual = batchChecksum(texts);
    if (rows.length !== row.recordCount || actual !== row.checksum) {
      throw new BlockIntegrityError(
        ctx.name,
        `batch ${idempotencyKey}`,
        row.checksum,
        'hash_mismatch',
        `${rows.length} records hash to ${actual}`,
      );
    }
    return {
      receipt: toReceipt(row, false),
      records: rows.map((r) => ({ offset: r.offset, data: JSON.parse(r.text) as JsonValue })),
    };
  });
}
