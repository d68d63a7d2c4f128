import { type AdapterStore, openStore } from '@peer/adapter-store';
import { initBackend } from '@peer/core/backend';
import { createApp } from '../../src/app.js';
import { issueApiKey } from '../../src/auth/api-keys.js';
import { readApiEnv } from '../../src/env.js';
import { setLogLevel } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/services.js';

/** An app over an in-memory PGlite store with one key per scope in tenant `acme` and an admin key in `other`. */
export interface TestApp {
  readonly app: ReturnType<typeof createApp>;
  readonly services: Services;
  readonly store: AdapterStore;
  readonly keys: { read: string; write: string; admin: string; otherTenant: string };
  /** `app.request` with a bearer key and JSON body. */
  call(
    method: string,
    path: string,
    options?: { key?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

/** Builds a test app; `env` overrides environment variables (limits, ...). */
export async function createTestApp(
  env: Record<string, string> = {},
  options: { store?: AdapterStore } = {},
): Promise<TestApp> {
  setLogLevel('error');
  await initBackend({ backend: 'wasm' });
  const store = options.store ?? (await openStore({ memory: true }));
  const services = createServices(readApiEnv({ ...env }), store);
  const app = createApp(services);
  const key = async (tenantName: string, scope: 'read' | 'write' | 'admin') =>
    (await issueApiKey(store, { tenantName, name: `test-${scope}`, scope })).key;
  const keys = {
    read: await key('acme', 'read'),
    write: await key('acme', 'write'),
    admin: await key('acme', 'admin'),
    otherTenant: await key('other', 'admin'),
  };
  return {
    app,
    services,
    store,
    keys,
    call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.key !== undefined) headers.authorization = `Bearer ${o.key}`;
      let body = o.body;
      if (o.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(o.json);
      }
      return Promise.resolve(app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) }));
    },
    async close() {
      if (!options.store) await store.close();
    },
  };
}

/** A small classifier config that trains in seconds. */
export const SMALL_CLASSIFIER = {
  inDim: 8,
  classes: 3,
  dModel: 16,
  peer: { heads: 2, topK: 2, dKey: 8, subKeyRows: 4, subKeyCols: 4, capacityRows: 16 },
};

/** NDJSON text of `n` separable records of `SMALL_CLASSIFIER` (class c has a bump at x[c]). */
export function smallRecords(n: number, seed = 1): string {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const y = i % 3;
    const x = Array.from({ length: 8 }, (_, j) => Number((rand() + (j === y ? 3 : 0)).toFixed(4)));
    lines.push(JSON.stringify({ x, y }));
  }
  return `${lines.join('\n')}\n`;
}
