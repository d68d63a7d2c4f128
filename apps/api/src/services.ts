import type { AdapterStore } from '@peer/adapter-store';
import { KeyResolver } from './auth/auth-middleware.js';
import type { ApiEnv } from './env.js';
import { RateLimiter } from './http/rate-limiter.js';
import type { JobQueue } from './jobs/job-queue.js';
import { Metrics } from './observability/metrics.js';
import { registerStoreGauges } from './observability/store-gauges.js';
import { Serving } from './serving/serving.js';

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
  /** Predict: version resolution, the model cache and adapters (close it on shutdown, before the store). */
  readonly serving: Serving;
  /** Where new training jobs are queued; set once at start-up (`peer serve`, tests). Absent: jobs stay queued. */
  jobs?: JobQueue;
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
    serving: new Serving(store, { cacheBytes: env.PEER_MODEL_CACHE_MB * 1024 * 1024, metrics }),
  };
}
