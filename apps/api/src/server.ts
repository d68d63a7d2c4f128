import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { AdapterStore } from '@peer/adapter-store';
import { createApp } from './app.js';
import type { ApiEnv } from './env.js';
import { logger } from './observability/logger.js';
import { createServices, type Services } from './services.js';

/** A running server: its URL and a graceful stop. */
export interface RunningServer {
  readonly url: string;
  readonly services: Services;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then runs the shutdown hooks. */
  stop(graceMs?: number): Promise<void>;
}

/** Hooks run on shutdown after the HTTP server has drained (workers, caches, the store last). */
export type ShutdownHook = () => Promise<void>;

/**
 * Serves the API over an opened store. Returns once listening. `onShutdown` hooks run in order after the
 * server stopped taking requests and in-flight ones completed, so nothing acknowledged is cut off.
 */
export async function startServer(
  env: ApiEnv,
  store: AdapterStore,
  options: { services?: Services; onShutdown?: ShutdownHook[] } = {},
): Promise<RunningServer> {
  const services = options.services ?? createServices(env, store);
  const app = createApp(services);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: env.PORT, hostname: env.HOST }, () => resolve(s));
  });
  const address = server.address() as AddressInfo;
  const url = `http://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${address.port}`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    services,
    stop(graceMs = 30_000) {
      stopping ??= (async () => {
        services.lifecycle.draining = true;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            logger.warn('grace period over; closing remaining connections', { graceMs });
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }, graceMs);
          timer.unref();
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
          (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        });
        for (const hook of options.onShutdown ?? []) await hook();
      })();
      return stopping;
    },
  };
}
