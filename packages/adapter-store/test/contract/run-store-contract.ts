import { afterAll, beforeAll, describe } from 'vitest';
import { adapterContract } from './adapters.contract.js';
import { aliasContract } from './aliases.contract.js';
import { apiKeyContract } from './api-keys.contract.js';
import { badInputContract } from './bad-input.contract.js';
import { conflictContract } from './conflicts.contract.js';
import type { MakeHarness, StoreHarness } from './harness.js';
import { ingestContract } from './ingest.contract.js';
import { integrityContract } from './integrity.contract.js';
import { jobContract } from './jobs.contract.js';
import { notifyContract } from './notify.contract.js';
import { statsContract } from './stats.contract.js';
import { versionContract } from './versions.contract.js';

/**
 * The one behavioural contract every driver must pass (unstorage-style): each driver's test file calls
 * this with a factory; the harness is built once per file and shared by all tests, which isolate
 * themselves with fresh tenants/models.
 */
export function runStoreContract(name: string, makeHarness: MakeHarness): void {
  describe(name, () => {
    let harness: StoreHarness | undefined;
    beforeAll(async () => {
      harness = await makeHarness();
    }, 120_000);
    afterAll(async () => {
      await harness?.close();
    });
    const h = () => {
      if (!harness) throw new Error('store harness failed to open (see beforeAll)');
      return harness;
    };
    versionContract(h);
    aliasContract(h);
    conflictContract(h);
    integrityContract(h);
    badInputContract(h);
    ingestContract(h);
    adapterContract(h);
    apiKeyContract(h);
    jobContract(h);
    statsContract(h);
    notifyContract(h);
  });
}
