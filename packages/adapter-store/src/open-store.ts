import type { PGlite } from '@electric-sql/pglite';
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
  const common = { ...(options.migrationsFolder ? { migrationsFolder: options.migrationsFolder } : {}) };
  // Drivers are imported on demand: a PostgreSQL process never loads the PGlite wasm module, and back.
  const pglite = async (extra: { client?: PGlite; dataDir?: string }) => {
    const { openPgliteDriver } = await import('./drivers/pglite.js');
    return createStore(await openPgliteDriver({ ...common, ...extra }), options);
  };
  if (options.pglite) return pglite({ client: options.pglite });
  if (options.memory) return pglite({});
  if (options.dataDir) return pglite({ dataDir: options.dataDir });
  const env = readEnv();
  const url = options.url ?? env.DATABASE_URL;
  if (!url) return pglite({ dataDir: env.PEER_STORE_DATA_DIR });
  const { openPostgresDriver } = await import('./drivers/postgres.js');
  const max = options.maxConnections;
  return createStore(await openPostgresDriver({ ...common, url, ...(max ? { max } : {}) }), options);
}
