import { createHash, randomBytes } from 'node:crypto';
import type { AdapterStore, JsonValue, Model, Tenant } from '../../src/index.js';

/** What a driver's test file provides to the contract suite. */
export interface StoreHarness {
  readonly store: AdapterStore;
  /** A second store object on the same database, as another process would open it. */
  openAnother(): Promise<AdapterStore>;
  /** Raw SQL, for fault injection (corrupting a block) and measurements (relation sizes). */
  exec(sql: string): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

/** Builds a harness; called once per test file (PGlite start-up costs seconds). */
export type MakeHarness = () => Promise<StoreHarness>;

/** Per-test getter: the suites register tests before the harness exists. */
export type HarnessRef = () => StoreHarness;

/** Bytes per bulk COPY round in contract tests: small, so multi-chunk write and read paths are exercised. */
export const CONTRACT_CHUNK_BYTES = 256 * 1024;

/** A unique name (the database is shared by all tests of a file). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A fresh tenant + model. */
export async function freshModel(
  store: AdapterStore,
  config: JsonValue = { kind: 'peer' },
): Promise<{ tenant: Tenant; model: Model }> {
  const tenant = await store.createTenant({ name: uniqueName('tenant') });
  const model = await store.createModel({
    tenantId: tenant.id,
    name: uniqueName('model'),
    config,
  });
  return { tenant, model };
}

/** Row counts of the tables a failed write must not have touched. */
export async function tableCounts(h: StoreHarness): Promise<Record<string, number>> {
  const tables = [
    'blocks',
    'versions',
    'version_blocks',
    'aliases',
    'alias_log',
    'ingest_batches',
    'stream_records',
    'models',
  ];
  const out: Record<string, number> = {};
  for (const t of tables) {
    const [row] = await h.exec(`select count(*)::int as n from "${t}"`);
    out[t] = Number(row?.n);
  }
  return out;
}

/** A random API key and what the API would store of it: its sha256 (hex) and display prefix. */
export function newApiKey(): { key: string; keyHash: string; prefix: string } {
  const key = `peer_${randomBytes(24).toString('base64url')}`;
  return { key, keyHash: createHash('sha256').update(key).digest('hex'), prefix: key.slice(0, 12) };
}

/** Polls until `check` holds (notifications arrive asynchronously), failing after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
