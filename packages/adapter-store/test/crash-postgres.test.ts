import { afterAll, describe, expect, it } from 'vitest';
import { readEnv } from '../src/env.js';
import { openStore } from '../src/index.js';
import { runCrashRounds, setUpCrashModel } from './crash/crash-harness.js';
import { createTestDatabase } from './helpers/pg-database.js';

const url = readEnv().DATABASE_URL;
const title = url
  ? 'crash safety — PostgreSQL (DATABASE_URL)'
  : 'crash safety — PostgreSQL — SKIPPED: DATABASE_URL is not set';

describe.skipIf(!url)(title, () => {
  let drop: (() => Promise<void>) | undefined;
  afterAll(async () => {
    await drop?.();
  });

  it('20 SIGKILLs of the writing client: no partial version, every ack present, all hashes verify', async () => {
    const db = await createTestDatabase(url as string, 'crash');
    drop = db.drop;
    const setup = await openStore({ url: db.url });
    const ids = await setUpCrashModel(setup);
    await setup.close();
    const result = await runCrashRounds(
      { driver: 'postgres', target: db.url, open: () => openStore({ url: db.url }) },
      ids,
      20,
      20261125,
    );
    console.info('PostgreSQL crash rounds:', result);
    expect(result.commits).toBeGreaterThan(0);
    expect(result.batches).toBeGreaterThan(0);
  }, 300_000);
});
