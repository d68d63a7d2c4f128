import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';
import { runCrashRounds, setUpCrashModel } from './crash/crash-harness.js';

describe('crash safety — PGlite data directory', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('20 SIGKILLs during commits and ingest: no partial version, every ack present, all hashes verify', async () => {
    dir = await mkdtemp(join(tmpdir(), 'adapter-store-crash-'));
    const dataDir = join(dir, 'pg');
    const setup = await openStore({ dataDir });
    const ids = await setUpCrashModel(setup);
    await setup.close();
    const result = await runCrashRounds(
      { driver: 'pglite', target: dataDir, open: () => openStore({ dataDir }) },
      ids,
      20,
      20261124,
    );
    console.info('PGlite crash rounds:', result);
    expect(result.commits).toBeGreaterThan(0);
    expect(result.batches).toBeGreaterThan(0);
  }, 300_000);
});
