import { drizzle, PostgresJsSession } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres, { type TransactionSql } from 'postgres';
import { CopyBinaryDecoder } from '../codec/pg-copy-binary.js';
import { type BlockBytes, type Db, hashListLiteral, type StoreDriver } from './driver.js';
import { MIGRATIONS_FOLDER } from './migrations-folder.js';
import { connectNoDelay } from './no-delay-socket.js';
import { copyBlocksIn } from './postgres-copy-in.js';

/** Options of the PostgreSQL driver. */
export interface PostgresDriverOptions {
  /** Connection string, e.g. `postgres://user@127.0.0.1:5432/db`. */
  readonly url: string;
  /** Pool size; concurrent commits each hold one connection for their whole transaction. */
  readonly max?: number;
  /** Migrations folder; defaults to the repository's `migrations/`. */
  readonly migrationsFolder?: string;
}

/** Session advisory-lock key (an arbitrary constant, "peer mg"): serialises concurrent migrators. */
const MIGRATION_LOCK_KEY = 0x70656572_6d67;

/**
 * postgres.js driver. Block bytes move with binary COPY: FROM STDIN straight into `blocks` inside the
 * commit transaction (see `copyBlocksIn` for why it can never fail on the data), and TO STDOUT on a
 * throw-away one-connection client, because postgres.js 3.4.9 can hang the next query on a connection
 * that ran COPY TO.
 */
export async function openPostgresDriver(options: PostgresDriverOptions): Promise<StoreDriver> {
  const connection = connectionOptions();
  await migrateLocked(options.url, options.migrationsFolder ?? MIGRATIONS_FOLDER);
  const client = postgres(options.url, { ...connection, max: options.max ?? 4 });
  const db = drizzle({ client }) as unknown as Db;

  return {
    name: 'postgres',
    db,
    transaction(fn) {
      return db.transaction(async (txDb) => {
        // COPY needs the raw postgres.js transaction (the connection reserved by BEGIN) under drizzle's.
        const session = txDb._.session;
        if (!(session instanceof PostgresJsSession)) throw new Error('unexpected drizzle session type');
        const raw = session.client as TransactionSql;
        return fn({ db: txDb as Db, insertBlocks: (rows) => copyBlocksIn(raw, rows) });
      });
    },
    async listen(channel, onPayload) {
      // postgres.js keeps one extra connection for all LISTENs of the client and re-issues them after a
      // reconnect (notifications sent while it was down are lost, as with any LISTEN).
      const { unlisten } = await client.listen(channel, onPayload);
      return unlisten;
    },
    async *readBlocks(hashes) {
      if (hashes.length === 0) return;
      const reader = postgres(options.url, { ...connection, max: 1 });
      try {
        const stream = await reader
          .unsafe(
            `copy (select "hash", "data" from "blocks" where "hash" in (${hashListLiteral(hashes)})) to stdout with (format binary)`,
          )
          .readable();
        const decoder = new CopyBinaryDecoder();
        const text = new TextDecoder();
        for await (const chunk of stream as AsyncIterable<Uint8Array>) {
          for (const [hash, data] of decoder.push(chunk)) {
            if (hash && data) yield { hash: text.decode(hash), bytes: data } satisfies BlockBytes;
          }
        }
        if (!decoder.done) throw new Error('COPY TO output ended before its trailer');
      } finally {
        await reader.end({ timeout: 1 });
      }
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/**
 * Options shared by every client. `socket` (TCP_NODELAY, see `connectNoDelay`) is a documented
 * postgres.js option ("Custom socket" in its README) that its 3.4.9 typings omit, hence the widening.
 */
function connectionOptions(): postgres.Options<Record<string, never>> {
  const options = { onnotice: () => {}, connect_timeout: 10, socket: connectNoDelay };
  return options;
}

/** Applies migrations while holding a session advisory lock, so two processes opening at once are safe. */
async function migrateLocked(url: string, migrationsFolder: string): Promise<void> {
  const client = postgres(url, { ...connectionOptions(), max: 1 });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migrate(drizzle({ client }), { migrationsFolder });
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
