import { initBackend } from '@peer/core/backend';
import { bootstrapAdminKey } from '../../auth/api-keys.js';
import { readApiEnv } from '../../env.js';
import { logger } from '../../observability/logger.js';
import { openApiStore } from '../../open-api-store.js';
import { startServer } from '../../server.js';

/** `peer serve`: the API on the configured store, until SIGTERM/SIGINT (graceful). */
export async function serveCommand(): Promise<void> {
  const env = readApiEnv();
  const backend = await initBackend();
  const store = await openApiStore(env);
  const admin = await bootstrapAdminKey(store, env.PEER_ADMIN_KEY);
  const server = await startServer(env, store, { onShutdown: [() => store.close()] });
  const lines = [
    `PEER API listening on ${server.url}  (store: ${store.driver}, tensors: ${backend.name})`,
    `  API reference: ${server.url}/docs   OpenAPI: ${server.url}/v1/openapi.json`,
  ];
  if (admin?.created && !env.PEER_ADMIN_KEY) {
    lines.push(`  admin API key (shown once, store it now): ${admin.key}`);
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
