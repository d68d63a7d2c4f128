import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TransactionSql } from 'postgres';
import { blockCopyBuffers } from './copy-rows.js';
import { BLOCK_COPY_COLUMNS, type BlockBytes, type InsertedBlocks } from './driver.js';

/**
 * Bulk-inserts block rows with binary COPY FROM STDIN straight into `blocks`, inside the caller's
 * transaction, such that the COPY itself can never fail on the data.
 *
 * Why that matters: in postgres.js 3.4.9 a COPY FROM that the server rejects after the client has
 * ended the stream never settles the writable (porsager/postgres#1173, fix pending in #1183): the
 * transaction hangs and its connection leaks "idle in transaction (aborted)". So no row may violate a
 * constraint. Format and length checks hold by construction; the remaining risk is two transactions
 * inserting the same new hash at once (identical zero-initialised blocks, say), which would be a
 * unique violation inside COPY. Each inserter therefore takes a transaction-scoped advisory lock per
 * hash (in hash order), re-checks which hashes exist now that it holds the locks, and COPYs only the
 * rest. A concurrent inserter of the same hash waits for the lock, then sees the row committed (or
 * rolled back) and skips (or writes) it. Two commits locking shared new hashes in opposite orders
 * across rounds can deadlock; PostgreSQL then aborts one with SQLSTATE 40P01 in the lock statement —
 * an ordinary error on the normal path, and the caller may retry.
 *
 * Returns the number of rows inserted (hashes found present after locking are skipped).
 */
export async function copyBlocksIn(tx: TransactionSql, rows: readonly BlockBytes[]): Promise<InsertedBlocks> {
  if (rows.length === 0) return { rows: 0, bytes: 0 };
  const sorted = [...rows].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
  const hashes = JSON.stringify(sorted.map((r) => r.hash));
  // Two int4 keys from the first 8 bytes of the hash (the two-key space never meets the one-key locks).
  await tx.unsafe(
    `select count(pg_advisory_xact_lock(('x' || substr(h, 1, 8))::bit(32)::int, ('x' || substr(h, 9, 8))::bit(32)::int))
     from (select h from json_array_elements_text($1::json) with ordinality as t(h, i) order by i) as s`,
    [hashes],
  );
  const present = await tx.unsafe<Array<{ hash: string }>>(
    `select "hash" from "blocks" where "hash" in (select json_array_elements_text($1::json))`,
    [hashes],
  );
  const skip = new Set(present.map((r) => r.hash));
  const missing = sorted.filter((r) => !skip.has(r.hash));
  if (missing.length === 0) return { rows: 0, bytes: 0 };
  const writable = await tx
    .unsafe(`copy "blocks" (${BLOCK_COPY_COLUMNS}) from stdin with (format binary)`)
    .writable();
  await pipeline(Readable.from(blockCopyBuffers(missing)), writable);
  return { rows: missing.length, bytes: missing.reduce((n, r) => n + r.bytes.byteLength, 0) };
}
