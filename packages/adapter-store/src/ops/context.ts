import { sql } from 'drizzle-orm';
import type { Db, StoreDriver } from '../drivers/driver.js';
import { AdapterStoreError, type DriverName, StoreDatabaseError } from '../errors.js';
import type { RngFactory } from '../replay/rng.js';

/** What every operation needs: the driver and a few tunables. */
export interface StoreContext {
  readonly driver: StoreDriver;
  readonly name: DriverName;
  /** Bytes buffered per bulk COPY (write) or fetched per round (read); bounds memory, amortises latency. */
  readonly chunkBytes: number;
  /** Builds the replay reservoir's generator from its persisted state. */
  readonly rng: RngFactory;
}

/**
 * Advisory-lock key that separates commits from garbage collection: commits hold it shared (they may
 * reference blocks that exist but are unreferenced), GC holds it exclusively while deleting.
 */
const BLOCKS_LOCK_KEY = '7306093284661112';

/** Taken by every transaction that inserts references to blocks. */
export async function lockBlocksShared(db: Db): Promise<void> {
  await db.execute(sql.raw(`select pg_advisory_xact_lock_shared(${BLOCKS_LOCK_KEY})`));
}

/** Taken by garbage collection. */
export async function lockBlocksExclusive(db: Db): Promise<void> {
  await db.execute(sql.raw(`select pg_advisory_xact_lock(${BLOCKS_LOCK_KEY})`));
}

/** The SQLSTATE of a driver error, looking through drizzle's `DrizzleQueryError` wrapper. */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The constraint a driver error names (postgres.js calls it `constraint_name`, PGlite `constraint`),
 * looking through drizzle's wrapper like `sqlState`.
 */
export function constraintName(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const named = current as { constraint_name?: unknown; constraint?: unknown };
    const name = named.constraint_name ?? named.constraint;
    if (typeof name === 'string') return name;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Runs an operation, passing the store's own errors through and wrapping anything else in a
 * `StoreDatabaseError` (with the driver's error as `cause`, and without drizzle's parameter dump).
 */
export async function guard<T>(ctx: StoreContext, operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AdapterStoreError) throw error;
    throw new StoreDatabaseError(ctx.name, operation, rootCause(error), sqlState(error));
  }
}

/** The first error in the cause chain that carries a SQLSTATE, else the deepest cause. */
function rootCause(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth++) {
    if (typeof (current as { code?: unknown } | null)?.code === 'string') return current;
    const next = (current as { cause?: unknown } | null)?.cause;
    if (!next) return current;
    current = next;
  }
  return current;
}
