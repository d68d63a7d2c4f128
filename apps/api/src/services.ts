import type { AdapterStore } from '@peer/adapter-store';
import { KeyResolver } from './auth/auth-middleware.js';
import type { ApiEnv } from './env.js';
import { RateLimiter } from './http/rate-limiter.js';
import { Metrics } from './observability/metrics.js';
import { registerStoreGauges } from './observability/store-gauges.js';

/** Whether the server still takes new work (false once SIGTERM started a graceful shutdown). */
export interface Lifecycle {
  draining: boolean;
}

/** Everything routes share; built once per process by `createServices`. */
export interface Services {
  readonly env: ApiEnv;
  readonly store: AdapterStore;
  readonly metrics: Metrics;
  readonly keys: KeyResolver;
  readonly rateLimiter: RateLimiter;
  readonly lifecycle: Lifecycle;
}

/** Builds the shared services over an opened store. */
export function createServices(env: ApiEnv, store: AdapterStore): Services {
  const keys = new KeyResolver(async (hash) => {
    const record = await store.findApiKeyByHash(hash);
    return record ? { keyId: record.id, tenantId: record.tenantId, scope: record.scope } : undefined;
  });
  const metrics = new Metrics();
  registerStoreGauges(metrics, store);
  return {
    env,
    store,
    metrics,
    keys,
    rateLimiter: new RateLimiter(env.PEER_RATE_LIMIT_RPS),
    lifecycle: { draining: false },
  };
}
