import type { PGlite } from '@electric-sql/pglite';
import { openPgliteDriver } from './drivers/pglite.js';
import { openPostgresDriver } from './drivers/postgres.js';
import { readEnv } from './env.js';
import { type AdapterStore, createStore, type StoreOptions } from './store.js';

/** Where the store lives. */
export interface OpenStoreOptions extends StoreOptions {
  /** PostgreSQL URL (postgres.js). */
  readonly url?: string;
  /** PGlite data directory. */
  readonly dataDir?: string;
  /** In-memory PGlite (tests). */
  readonly memory?: boolean;
  /** An opened PGlite instance to share (tests); the store will not close it. */
  readonly pglite?: PGlite;
  /** postgres.js pool size. */
  readonly maxConnections?: number;
  /** Migrations folder (defaults to the repository's `migrations/`). */
  readonly migrationsFolder?: string;
}

/**
 * Opens a store and applies pending migrations. Driver choice, first match wins: an explicit PGlite
 * option (`pglite`, `memory`, `dataDir`) → PGlite; `url` or `DATABASE_URL` → PostgreSQL via
 * postgres.js; otherwise PGlite in `PEER_STORE_DATA_DIR` (default `./data/pg`).
 *
 * @example const store = await openStore({ memory: true });
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<AdapterStore> {
  const migrationsFolder = options.migrationsFolder;
  const pgliteOptions = { ...(migrationsFolder ? { migrationsFolder } : {}) };
  if (options.pglite) return createStore(await openPgliteDriver({ ...pgliteOptions, client: options.pglite }), options);
  if (options.memory) return createStore(await openPgliteDriver(pgliteOptions), options);
  if (options.dataDir) return createStore(await openPgliteDriver({ ...pgliteOptions, dataDir: options.dataDir }), options);
  const env = readEnv();
  const url = options.url ?? env.DATABASE_URL;
  if (url) {
    const max = options.maxConnections;
    return createStore(await openPostgresDriver({ url, ...pgliteOptions, ...(max ? { max } : {}) }), options);
  }
  return createStore(await openPgliteDriver({ ...pgliteOptions, dataDir: env.PEER_STORE_DATA_DIR }), options);
}
