import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/app-env.js';

/** `/healthz` (the process answers), `/readyz` (the database answers and we are not draining), `/metrics`. */
export function healthRoutes(app: OpenAPIHono<AppEnv>): void {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const { store, lifecycle } = c.get('services');
    if (lifecycle.draining) return c.json({ status: 'draining' }, 503);
    try {
      await store.countApiKeys();
      return c.json({ status: 'ready', driver: store.driver });
    } catch {
      return c.json({ status: 'database unavailable' }, 503);
    }
  });

  app.get('/metrics', async (c) => {
    const text = await c.get('services').metrics.render();
    return c.text(text, 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
}
