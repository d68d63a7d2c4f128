import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { CopyBinaryDecoder } from '../codec/pg-copy-binary.js';
import { blockCopyBuffers } from './copy-rows.js';
import {
  BLOCK_COPY_COLUMNS,
  type BlockBytes,
  type Db,
  hashListLiteral,
  type InsertedBlocks,
  type StoreDriver,
} from './driver.js';
import { MIGRATIONS_FOLDER } from './migrations-folder.js';

/** Options of the embedded driver. */
export interface PgliteDriverOptions {
  /** Data directory (created if absent); omit for an in-memory database (tests). */
  readonly dataDir?: string;
  /** An already opened instance to share (tests: one ~4 s start per file); not closed by `close()`. */
  readonly client?: PGlite;
  /** Migrations folder; defaults to the repository's `migrations/`. */
  readonly migrationsFolder?: string;
}

/**
 * PGlite driver. PGlite is one session, so transactions are serialised by PGlite itself and no other
 * writer can race a commit: blocks checked absent at the start of a transaction stay absent, and COPY
 * straight into `blocks` is safe. bytea through the query path is slow (hex text codec), so block bytes
 * only ever move through binary COPY via PGlite's `/dev/blob` device — which works inside transactions.
 */
export async function openPgliteDriver(options: PgliteDriverOptions = {}): Promise<StoreDriver> {
  const owned = !options.client;
  // PGlite creates only the last path segment; a fresh `DATA_DIR=./data` needs its parents too.
  if (options.dataDir && !options.client) await mkdir(options.dataDir, { recursive: true });
  const client = options.client ?? (options.dataDir ? new PGlite(options.dataDir) : new PGlite());
  await client.waitReady;
  const db = drizzle({ client }) as unknown as Db;
  await migrate(drizzle({ client }), { migrationsFolder: options.migrationsFolder ?? MIGRATIONS_FOLDER });

  async function insertBlocks(tx: Transaction, rows: readonly BlockBytes[]): Promise<InsertedBlocks> {
    if (rows.length === 0) return { rows: 0, bytes: 0 };
    const blob = new Blob(blockCopyBuffers(rows) as BlobPart[]);
    await tx.query(`copy "blocks" (${BLOCK_COPY_COLUMNS}) from '/dev/blob' with (format binary)`, [], {
      blob,
    });
    return { rows: rows.length, bytes: rows.reduce((n, r) => n + r.bytes.byteLength, 0) };
  }

  return {
    name: 'pglite',
    db,
    transaction(fn) {
      return client.transaction(async (tx) => {
        // drizzle's PGlite session only calls `query()` on its client, which a Transaction provides.
        const txDb = drizzle({ client: tx as unknown as PGlite }) as unknown as Db;
        return fn({ db: txDb, insertBlocks: (rows) => insertBlocks(tx, rows) });
      });
    },
    async listen(channel, onPayload) {
      // PGlite is one session: LISTEN and NOTIFY share it, and notifications arrive when the sending
      // transaction commits, exactly as from another session on a server.
      const unsubscribe = await client.listen(channel, onPayload);
      return () => unsubscribe();
    },
    async *readBlocks(hashes) {
      if (hashes.length === 0) return;
      const result = await client.query(
        `copy (select "hash", "data" from "blocks" where "hash" in (${hashListLiteral(hashes)})) to '/dev/blob' with (format binary)`,
      );
      if (!result.blob) throw new Error('PGlite returned no blob for COPY TO /dev/blob');
      const decoder = new CopyBinaryDecoder();
      const tuples = decoder.push(new Uint8Array(await result.blob.arrayBuffer()));
      for (const [hash, data] of tuples) {
        if (!hash || !data) continue;
        yield { hash: new TextDecoder().decode(hash), bytes: data };
      }
    },
    async close() {
      if (owned) await client.close();
    },
  };
}
