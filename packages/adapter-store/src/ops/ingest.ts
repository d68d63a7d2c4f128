import { createHash, randomUUID } from 'node:crypto';
import { and, asc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../drivers/driver.js';
import { IdempotencyConflictError, NotFoundError, StoreValidationError } from '../errors.js';
import { ingestBatches, streamRecords, streams } from '../schema/index.js';
import type { BatchInput, BatchReceipt, BatchStatus } from '../types-data.js';
import { checkId, checkInt, checkJson, checkKey } from '../validation.js';
import { guard, type StoreContext } from './context.js';
import { offerTexts } from './replay.js';

/** Most records accepted in one batch (10k is the design point; this is the hard stop). */
export const MAX_BATCH_RECORDS = 100_000;
/** Largest single record, serialised. */
export const MAX_RECORD_CHARS = 1024 * 1024;

/** Thrown inside the transaction when a concurrent request won the same idempotency key. */
class LostKeyRace extends Error {}

/** sha256 (hex) of the records' JSON texts joined by '\n' — recomputable from the stored `json` rows. */
export function batchChecksum(texts: readonly string[]): string {
  return createHash('sha256').update(texts.join('\n')).digest('hex');
}

/**
 * Durably records a batch before returning (one transaction: ledger row, offsets, records, and
 * optionally the replay sample). Replaying an idempotency key returns the first receipt with
 * `replayed: true` and writes nothing; two racing requests with one key both get the winner's receipt
 * (the unique constraint decides). Replaying a key with a different payload is `IdempotencyConflictError`.
 *
 * Records are stored as one `json` row each (not a blob per batch): addressable by offset for the
 * trainer, inspectable with SQL, and inserted server-side from one JSON parameter, so 10k records cost
 * one round trip on both drivers.
 */
export async function recordBatch(ctx: StoreContext, input: BatchInput): Promise<BatchReceipt> {
  const streamId = checkId(ctx.name, 'streamId', input?.streamId);
  const key = checkKey(ctx.name, 'idempotencyKey', input.idempotencyKey);
  if (
    !Array.isArray(input.records) ||
    input.records.length === 0 ||
    input.records.length > MAX_BATCH_RECORDS
  ) {
    throw new StoreValidationError(
      ctx.name,
      'records',
      `an array of 1 to ${MAX_BATCH_RECORDS} records`,
      input.records?.length,
    );
  }
  const texts = input.records.map((r, i) => checkJson(ctx.name, `records[${i}]`, r, MAX_RECORD_CHARS));
  const checksum = batchChecksum(texts);
  const count = texts.length;

  return guard(ctx, 'recordBatch', async () => {
    try {
      return await ctx.driver.transaction(async (tx) => {
        const existing = await findBatch(tx.db, streamId, key);
        if (existing) return replayOf(ctx, existing, checksum, count);
        // Locks the stream row: batches of one stream get consecutive offsets in commit order.
        const [bumped] = await tx.db
          .update(streams)
          .set({ nextOffset: sql`${streams.nextOffset} + ${count}` })
          .where(eq(streams.id, streamId))
          .returning({ next: streams.nextOffset });
        if (!bumped) throw new NotFoundError(ctx.name, 'stream', streamId);
        const firstOffset = bumped.next - count;
        const [row] = await tx.db
          .insert(ingestBatches)
          .values({
            id: randomUUID(),
            streamId,
            idempotencyKey: key,
            firstOffset,
            recordCount: count,
            checksum,
            status: input.pending ? 'pending' : 'acknowledged',
          })
          .onConflictDoNothing()
          .returning();
        if (!row) throw new LostKeyRace();
        await tx.db.execute(sql`
          insert into ${streamRecords} ("stream_id", "offset", "batch_id", "data")
          select ${streamId}::uuid, ${firstOffset}::bigint + t.ord - 1, ${row.id}::uuid, t.value
          from json_array_elements(${`[${texts.join(',')}]`}::json) with ordinality as t(value, ord)`);
        if (input.sampleReplay && !input.pending) await offerTexts(ctx, tx.db, streamId, texts);
        return toReceipt(row, false);
      });
    } catch (error) {
      if (!(error instanceof LostKeyRace)) throw error;
      const winner = await findBatch(ctx.driver.db, streamId, key);
      if (!winner) throw new Error('idempotency key vanished after a unique violation');
      return replayOf(ctx, winner, checksum, count);
    }
  });
}

/** The receipt of a batch by idempotency key, or `NotFoundError`. */
export async function getBatch(
  ctx: StoreContext,
  streamId: string,
  idempotencyKey: string,
): Promise<BatchReceipt> {
  checkId(ctx.name, 'streamId', streamId);
  checkKey(ctx.name, 'idempotencyKey', idempotencyKey);
  return guard(ctx, 'getBatch', async () => {
    const row = await findBatch(ctx.driver.db, streamId, idempotencyKey);
    if (!row) throw new NotFoundError(ctx.name, 'batch', `${streamId}/${idempotencyKey}`);
    return toReceipt(row, false);
  });
}

/** Receipts of a stream's batches in offset order. */
export async function listBatches(
  ctx: StoreContext,
  streamId: string,
  options: { fromOffset?: number; limit?: number } = {},
): Promise<BatchReceipt[]> {
  checkId(ctx.name, 'streamId', streamId);
  const from = checkInt(ctx.name, 'fromOffset', options.fromOffset ?? 0);
  const limit = checkInt(ctx.name, 'limit', options.limit ?? 1000, 1, 100_000);
  return guard(ctx, 'listBatches', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(ingestBatches)
      .where(and(eq(ingestBatches.streamId, streamId), gte(ingestBatches.firstOffset, from)))
      .orderBy(asc(ingestBatches.firstOffset))
      .limit(limit);
    return rows.map((r) => toReceipt(r, false));
  });
}

/**
 * Acknowledges a `pending` (or `discarded`) batch, in one transaction with offering its records to the
 * stream's replay reservoir when `sampleReplay`; a batch acknowledged already is returned unchanged, so
 * acknowledging twice offers nothing twice.
 */
export async function acknowledgeBatch(
  ctx: StoreContext,
  streamId: string,
  idempotencyKey: string,
  options: { sampleReplay?: boolean } = {},
): Promise<BatchReceipt> {
  checkId(ctx.name, 'streamId', streamId);
  checkKey(ctx.name, 'idempotencyKey', idempotencyKey);
  return guard(ctx, 'acknowledgeBatch', () =>
    ctx.driver.transaction(async (tx) => {
      const [row] = await tx.db
        .update(ingestBatches)
        .set({ status: 'acknowledged' })
        .where(
          and(
            eq(ingestBatches.streamId, streamId),
            eq(ingestBatches.idempotencyKey, idempotencyKey),
            inArray(ingestBatches.status, ['pending', 'discarded']),
          ),
        )
        .returning();
      if (!row) {
        const current = await findBatch(tx.db, streamId, idempotencyKey);
        if (!current) throw new NotFoundError(ctx.name, 'batch', `${streamId}/${idempotencyKey}`);
        return toReceipt(current, false);
      }
      if (options.sampleReplay) {
        const rows = await batchRecordTexts(tx.db, streamId, row);
        await offerTexts(
          ctx,
          tx.db,
          streamId,
          rows.map((r) => r.text),
        );
      }
      return toReceipt(row, false);
    }),
  );
}

/** Marks a batch consumed (trained into a version) or discarded. */
export async function setBatchStatus(
  ctx: StoreContext,
  streamId: string,
  idempotencyKey: string,
  status: BatchStatus,
): Promise<BatchReceipt> {
  checkId(ctx.name, 'streamId', streamId);
  checkKey(ctx.name, 'idempotencyKey', idempotencyKey);
  if (!['acknowledged', 'consumed', 'discarded'].includes(status)) {
    throw new StoreValidationError(ctx.name, 'status', "'acknowledged', 'consumed' or 'discarded'", status);
  }
  return guard(ctx, 'setBatchStatus', async () => {
    const [row] = await ctx.driver.db
      .update(ingestBatches)
      .set({ status })
      .where(and(eq(ingestBatches.streamId, streamId), eq(ingestBatches.idempotencyKey, idempotencyKey)))
      .returning();
    if (!row) throw new NotFoundError(ctx.name, 'batch', `${streamId}/${idempotencyKey}`);
    return toReceipt(row, false);
  });
}

export async function findBatch(
  db: Db,
  streamId: string,
  key: string,
): Promise<typeof ingestBatches.$inferSelect | undefined> {
  const [row] = await db
    .select()
    .from(ingestBatches)
    .where(and(eq(ingestBatches.streamId, streamId), eq(ingestBatches.idempotencyKey, key)));
  return row;
}

/** A batch's records as JSON text with their offsets, in offset order (by primary-key range: no batch_id index). */
export async function batchRecordTexts(
  db: Db,
  streamId: string,
  batch: { readonly firstOffset: number; readonly recordCount: number },
): Promise<{ offset: number; text: string }[]> {
  return db
    .select({ offset: streamRecords.offset, text: sql<string>`${streamRecords.data}::text` })
    .from(streamRecords)
    .where(
      and(
        eq(streamRecords.streamId, streamId),
        gte(streamRecords.offset, batch.firstOffset),
        lt(streamRecords.offset, batch.firstOffset + batch.recordCount),
      ),
    )
    .orderBy(asc(streamRecords.offset));
}

export function toReceipt(row: typeof ingestBatches.$inferSelect, replayed: boolean): BatchReceipt {
  return {
    batchId: row.id,
    streamId: row.streamId,
    idempotencyKey: row.idempotencyKey,
    firstOffset: row.firstOffset,
    recordCount: row.recordCount,
    checksum: row.checksum,
    status: row.status as BatchStatus,
    createdAt: row.createdAt,
    replayed,
  };
}

function replayOf(
  ctx: StoreContext,
  row: typeof ingestBatches.$inferSelect,
  checksum: string,
  count: number,
): BatchReceipt {
  if (row.checksum !== checksum || row.recordCount !== count) {
    throw new IdempotencyConflictError(ctx.name, row.streamId, row.idempotencyKey);
  }
  return toReceipt(row, true);
}
