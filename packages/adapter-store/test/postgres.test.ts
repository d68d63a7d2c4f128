import { describe } from 'vitest';
import { readEnv } from '../src/env.js';
import { openStore } from '../src/index.js';
import { CONTRACT_CHUNK_BYTES } from './contract/harness.js';
import { runStoreContract } from './contract/run-store-contract.js';
import { createTestDatabase, rawSql } from './helpers/pg-database.js';

const url = readEnv().DATABASE_URL;
const title = url
  ? 'postgres.js driver (PostgreSQL from DATABASE_URL)'
  : 'postgres.js driver — SKIPPED: DATABASE_URL is not set (CI sets it; locally e.g. postgres://postgres@127.0.0.1:5432/test)';

describe.skipIf(!url)(title, () => {
  // Each test file gets its own throw-away database, dropped afterwards.
  runStoreContract('store contract', async () => {
    const db = await createTestDatabase(url as string, 'contract');
    const store = await openStore({ url: db.url, chunkBytes: CONTRACT_CHUNK_BYTES });
    const raw = rawSql(db.url);
    return {
      store,
      openAnother: () => openStore({ url: db.url, chunkBytes: CONTRACT_CHUNK_BYTES }),
      exec: (sql) => raw.query(sql),
      async close() {
        await store.close();
        await raw.close();
        await db.drop();
      },
    };
  });
});
