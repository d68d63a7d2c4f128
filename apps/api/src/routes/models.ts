import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { CONTINUAL_STATE_SUFFIX } from '@peer/adapter-store';
import { requireScope } from '../auth/auth-middleware.js';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { bearer, errorResponses, ModelIdParams } from '../http/schemas.js';
import { ownedModel } from '../http/tenancy.js';
import { commitInitialVersion } from '../models/initial-version.js';
import {
  CreateModelSchema,
  ModelViewSchema,
  modelView,
  specFromRequest,
  specJson,
} from '../models/model-spec.js';

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const createModelRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['models'],
  summary: 'Create a model from a config; commits version 1 (initial weights)',
  security: bearer,
  middleware: [requireScope('write')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: CreateModelSchema } } } },
  responses: { 201: json(ModelViewSchema, 'The model'), 409: errorResponses[422], ...errorResponses },
});

const listModelsRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['models'],
  summary: 'List the tenant’s models',
  security: bearer,
  middleware: [requireScope('read')] as const,
  responses: { 200: json(z.object({ models: z.array(ModelViewSchema) }), 'Models'), ...errorResponses },
});

const getModelRoute = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['models'],
  summary: 'One model',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: { params: ModelIdParams },
  responses: { 200: json(ModelViewSchema, 'The model'), ...errorResponses },
});

/** `/v1/models`: create, list, get. */
export function modelRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createModelRoute, async (c) => {
    const body = c.req.valid('json');
    if (body.name.endsWith(CONTINUAL_STATE_SUFFIX)) {
      throw ApiError.invalidField(
        'name',
        `a name not ending in '${CONTINUAL_STATE_SUFFIX}' (reserved)`,
        body.name,
      );
    }
    const spec = specFromRequest(body);
    const { store } = c.get('services');
    const principal = c.get('principal');
    const created = await store.createModel({
      tenantId: principal.tenantId,
      name: body.name,
      config: specJson(spec),
    });
    await commitInitialVersion(store, created, spec, `key:${principal.keyId}`);
    const model = await store.getModel(created.id);
    return c.json(modelView(model), 201);
  });

  app.openapi(listModelsRoute, async (c) => {
    const models = await c.get('services').store.listModels(c.get('principal').tenantId);
    // `<model>.continual-state` lines hold regularizer state for jobs (EWC, L2): internal, not models.
    const visible = models.filter((m) => !m.name.endsWith(CONTINUAL_STATE_SUFFIX));
    return c.json({ models: visible.map(modelView) }, 200);
  });

  app.openapi(getModelRoute, async (c) => {
    const model = await ownedModel(c, c.req.valid('param').id);
    return c.json(modelView(model), 200);
  });
}
