import { PGlite } from '@electric-sql/pglite';
import { openStore } from '../src/index.js';
import { CONTRACT_CHUNK_BYTES } from './contract/harness.js';
import { runStoreContract } from './contract/run-store-contract.js';

// One in-memory PGlite for the whole file: starting one costs seconds.
runStoreContract('PGlite driver (in-memory)', async () => {
  const pg = new PGlite();
  const store = await openStore({ pglite: pg, chunkBytes: CONTRACT_CHUNK_BYTES });
  return {
    store,
    // PGlite is one session per process; "another process" is another store object on it.
    openAnother: () => openStore({ pglite: pg, chunkBytes: CONTRACT_CHUNK_BYTES }),
    exec: async (sql) => (await pg.query<Record<string, unknown>>(sql)).rows,
    async close() {
      await store.close();
      await pg.close();
    },
  };
});
