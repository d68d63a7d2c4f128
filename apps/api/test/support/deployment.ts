import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterStore } from '@peer/adapter-store';
import { bootstrapAdminKey, issueApiKey } from '../../src/auth/api-keys.js';
import { readApiEnv } from '../../src/env.js';
import { openApiStore } from '../../src/open-api-store.js';
import { TEST_ADMIN_KEY } from './child-server.js';
import { throwawayDatabase } from './throwaway-database.js';

/** The store drivers a real-server test runs on: PGlite always, PostgreSQL when `DATABASE_URL` is set. */
export type DriverName = 'pglite' | 'postgres';

/** Timeout of hooks that start servers or prepare databases (vitest's default of 10 s is too short for that). */
export const SETUP_TIMEOUT_MS = 180_000;

/** Timeout of a test that restarts servers or trains: generous, since CI runs test files side by side on 2 cores. */
export const LONG_TEST_MS = 300_000;

/** PostgreSQL of the test run (`DATABASE_URL`), if any. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL || undefined;

/** `['pglite']`, plus `'postgres'` when `DATABASE_URL` is set. */
export function testDrivers(): DriverName[] {
  return TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/** Keys issued before the server starts: tenant `default` (the bootstrap admin's) and another tenant. */
export interface DeploymentKeys {
  readonly admin: string;
  readonly write: string;
  readonly read: string;
  readonly otherTenant: string;
}

/** A fresh deployment's storage (temp `DATA_DIR`, or a throwaway database) with keys, not yet served. */
export interface Deployment {
  readonly driver: DriverName;
  /** Environment of `peer serve` for this deployment. */
  readonly env: Record<string, string>;
  readonly dataDir: string;
  readonly keys: DeploymentKeys;
  /** Opens the store directly (only while no server holds it, for PGlite). */
  openStore(): Promise<AdapterStore>;
  cleanup(): Promise<void>;
}

/**
 * Prepares storage for a child `peer serve`: a temp data directory (PGlite lives in it) or a throwaway
 * PostgreSQL database, with the bootstrap admin key and keys of each scope issued directly in the store.
 */
export async function prepareDeployment(
  driver: DriverName,
  extraEnv: Record<string, string> = {},
): Promise<Deployment> {
  const dataDir = await mkdtemp(join(tmpdir(), `peer-${driver}-`));
  const db = driver === 'postgres' ? await throwawayDatabase(requireUrl(), 'api_e2e') : undefined;
  const env: Record<string, string> = { DATA_DIR: dataDir, DATABASE_URL: db?.url ?? '', ...extraEnv };
  const openStore = () => openApiStore(readApiEnv(env));
  const store = await openStore();
  let keys: DeploymentKeys;
  try {
    await bootstrapAdminKey(store, TEST_ADMIN_KEY);
    const issue = async (tenantName: string, scope: 'read' | 'write' | 'admin') =>
      (await issueApiKey(store, { tenantName, name: `e2e-${scope}`, scope })).key;
    keys = {
      admin: TEST_ADMIN_KEY,
      write: await issue('default', 'write'),
      read: await issue('default', 'read'),
      otherTenant: await issue('other', 'admin'),
    };
  } finally {
    await store.close();
  }
  return {
    driver,
    env,
    dataDir,
    keys,
    openStore,
    async cleanup() {
      await db?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function requireUrl(): string {
  if (!TEST_DATABASE_URL) throw new Error('DATABASE_URL is not set');
  return TEST_DATABASE_URL;
}
