import { randomUUID } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { ApiError } from './http/api-error.js';
import type { AppEnv } from './http/app-env.js';
import { requestBodyLimit } from './http/body-limit.js';
import { errorBody, toApiError } from './http/error-response.js';
import { validationError } from './http/validation-hook.js';
import { logger } from './observability/logger.js';
import { adapterRoutes } from './routes/adapters.js';
import { docsRoutes } from './routes/docs-page.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes, modelJobRoutes } from './routes/jobs.js';
import { keyRoutes } from './routes/keys.js';
import { modelRoutes } from './routes/models.js';
import { predictRoutes } from './routes/predict.js';
import { streamRoutes } from './routes/streams.js';
import { uiRoutes } from './routes/ui.js';
import { versionRoutes } from './routes/versions.js';
import type { Services } from './services.js';

/** An OpenAPIHono whose request validation failures are the API's 422 bodies. */
export function apiRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: async (result, c) => {
      if (!result.success) throw await validationError(result.error.issues, result.target, c);
    },
  });
}

/** API version reported in the OpenAPI document. */
export const API_VERSION = '0.1.0';

/**
 * The whole HTTP application over shared services. Tests call `app.request()` on it directly; `peer serve`
 * hands `app.fetch` to the Node server.
 */
export function createApp(services: Services): OpenAPIHono<AppEnv> {
  const app = apiRouter();

  app.use('*', async (c, next) => {
    c.set('services', services);
    const requestId = c.req.header('x-request-id')?.slice(0, 100) || randomUUID();
    c.set('requestId', requestId);
    const started = performance.now();
    await next();
    c.header('X-Request-Id', requestId);
    const route = c.req.routePath;
    const labels = { method: c.req.method, route, status: String(c.res.status) };
    services.metrics.inc('peer_http_requests_total', 'HTTP requests by route and status', labels);
    services.metrics.observe(
      'peer_http_request_duration_seconds',
      'HTTP request latency',
      { method: c.req.method, route },
      (performance.now() - started) / 1000,
    );
  });

  app.use('/v1/*', requestBodyLimit(services.env.PEER_MAX_BODY_BYTES));

  healthRoutes(app);
  docsRoutes(app);
  uiRoutes(app);

  const models = apiRouter();
  modelRoutes(models);
  streamRoutes(models);
  predictRoutes(models);
  versionRoutes(models);
  adapterRoutes(models);
  modelJobRoutes(models);
  app.route('/v1/models', models);

  const jobs = apiRouter();
  jobRoutes(jobs);
  app.route('/v1/jobs', jobs);

  const keys = apiRouter();
  keyRoutes(keys);
  app.route('/v1/keys', keys);

  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key (`peer_…`), scoped read, write or admin',
  });
  app.doc31('/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'PEER lifelong-learning adapter platform',
      version: API_VERSION,
      description:
        'Data streams that grow a PEER expert pool, training jobs, predictions with adapters, versions.',
    },
  });

  app.notFound((c) =>
    c.json(errorBody(new ApiError(404, 'not_found', `no route ${c.req.method} ${c.req.path}`)), 404),
  );

  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) {
      logger.error('request failed', { requestId: c.get('requestId'), path: c.req.path, error });
    }
    for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
    return c.json(errorBody(apiError), apiError.status as 400);
  });

  return app;
}
