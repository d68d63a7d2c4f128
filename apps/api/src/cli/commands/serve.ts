import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { initBackend } from '@peer/core/backend';
import { bootstrapAdminKey } from '../../auth/api-keys.js';
import { adminKeyFile } from '../../client/admin-key-file.js';
import { readApiEnv } from '../../env.js';
import { createJobSystem, registerJobMetrics } from '../../jobs/job-system.js';
import { logger } from '../../observability/logger.js';
import { openApiStore } from '../../open-api-store.js';
import { startServer } from '../../server.js';
import { createServices } from '../../services.js';

/** `peer serve`: the API on the configured store, until SIGTERM/SIGINT (graceful). */
export async function serveCommand(): Promise<void> {
  const env = readApiEnv();
  const backend = await initBackend();
  const store = await openApiStore(env);
  const admin = await bootstrapAdminKey(store, env.PEER_ADMIN_KEY);
  const services = createServices(env, store);
  // Jobs: pg-boss on PostgreSQL, in-process on PGlite; this process trains unless PEER_INPROCESS_WORKER=0.
  const jobs = createJobSystem({
    env,
    store,
    metrics: services.metrics,
    work: env.PEER_INPROCESS_WORKER === '1',
  });
  await jobs.queue.start();
  services.jobs = jobs.queue;
  registerJobMetrics(services.metrics, store);
  const server = await startServer(env, store, {
    services,
    onShutdown: [() => jobs.close({ graceMs: 30_000 }), () => services.serving.close(), () => store.close()],
  });
  const lines = [
    `PEER API listening on ${server.url}  (store: ${store.driver}, tensors: ${backend.name}, jobs: ${jobs.queue.name}${jobs.runner ? ' + worker' : ''})`,
    `  API reference: ${server.url}/docs   OpenAPI: ${server.url}/v1/openapi.json`,
    `  Dashboard: ${server.url}/ui (paste an API key)`,
  ];
  const keyFile = adminKeyFile(env.DATA_DIR);
  if (admin?.created && !env.PEER_ADMIN_KEY) {
    await saveAdminKey(keyFile, admin.key);
    lines.push(`  admin API key (shown once, also saved to ${keyFile}): ${admin.key}`);
  } else if (!env.PEER_ADMIN_KEY) {
    lines.push(`  admin API key: printed on first start and saved to ${keyFile}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/**
 * Saves the generated key for `npm run demo` and the CLI on this machine, readable by the owner only
 * (0600): it is the whole deployment's admin credential.
 */
async function saveAdminKey(path: string, key: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  // `mode` applies only when the file is created; a key file left from an earlier data directory keeps its own.
  await chmod(path, 0o600);
}
