import { join } from 'node:path';
import { type AdapterStore, openStore } from '@peer/adapter-store';
import type { ApiEnv } from './env.js';

/** The store of the API: PostgreSQL when `DATABASE_URL` is set, else PGlite under `<DATA_DIR>/pg`. */
export function openApiStore(env: ApiEnv): Promise<AdapterStore> {
  return env.DATABASE_URL
    ? openStore({ url: env.DATABASE_URL })
    : openStore({ dataDir: join(env.DATA_DIR, 'pg') });
}
