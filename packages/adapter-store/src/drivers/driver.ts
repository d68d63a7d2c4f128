import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { DriverName } from '../errors.js';

/** A drizzle database or transaction, whichever driver is underneath. */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/** One block row for the bulk paths: content hash and bytes. */
export interface BlockBytes {
  readonly hash: string;
  readonly bytes: Uint8Array;
}

/** Rows and bytes a bulk insert actually wrote. */
export interface InsertedBlocks {
  readonly rows: number;
  readonly bytes: number;
}

/** What a transaction offers besides drizzle: the driver's bulk block insert. */
export interface StoreTx {
  readonly db: Db;
  /**
   * Inserts block rows (expected to be absent; a row that appeared concurrently is skipped, never an
   * error) with the driver's fastest path (binary COPY). Returns what was actually inserted.
   */
  insertBlocks(rows: readonly BlockBytes[]): Promise<InsertedBlocks>;
}

/**
 * The thin, dialect-specific part of the store: connect + migrate (done by the factory), transactions,
 * the two bulk block paths and LISTEN. Everything else is plain drizzle in `ops/`, shared by both drivers.
 */
export interface StoreDriver {
  readonly name: DriverName;
  /** Autocommit handle for reads and single statements. */
  readonly db: Db;
  /** Runs `fn` in one transaction (READ COMMITTED); throwing rolls everything back. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a notification channel (already validated); resolves once LISTEN is in effect, with
   * the function that ends the subscription. Sending needs nothing driver-specific (`pg_notify`).
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  /** Streams the bytes of the given blocks, in any order; missing hashes are simply not returned. */
  readBlocks(hashes: readonly string[]): AsyncIterable<BlockBytes>;
  /** Closes connections (postgres.js) or the embedded database (PGlite). */
  close(): Promise<void>;
}

/** Runs raw SQL and returns its rows as objects (PGlite returns `{ rows }`, postgres.js an array). */
export async function queryRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/**
 * Renders hashes as a SQL literal list for COPY statements, which cannot take bind parameters. Only
 * 64-hex-digit strings are accepted, so nothing else can reach the SQL text.
 */
export function hashListLiteral(hashes: readonly string[]): string {
  for (const h of hashes) {
    if (!/^[0-9a-f]{64}$/.test(h)) throw new Error(`not a sha256 hex digest: ${JSON.stringify(h)}`);
  }
  return hashes.map((h) => `'${h}'`).join(',');
}

/** The block columns written by the bulk paths, in COPY order. */
export const BLOCK_COPY_COLUMNS = '"hash", "byte_length", "data"';
