import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type ApiKeyRecord, NotFoundError } from '@peer/adapter-store';
import { generateApiKey, hashApiKey } from '../auth/api-keys.js';
import { requireScope } from '../auth/auth-middleware.js';
import { SCOPES } from '../auth/principal.js';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { bearer, errorResponses, IdSchema } from '../http/schemas.js';

const KeyViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: z.enum(['read', 'write', 'admin']),
    prefix: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

const createKeyRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['keys'],
  summary: 'Create an API key in the caller’s tenant (the key is returned once)',
  security: bearer,
  middleware: [requireScope('admin')] as const,
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z
            .object({
              name: z.string().trim().min(1).max(100),
              scope: z.enum(SCOPES as ['read', 'write', 'admin']),
            })
            .strict(),
        },
      },
    },
  },
  responses: {
    201: {
      description: 'The new key; `key` is shown only in this response',
      content: { 'application/json': { schema: KeyViewSchema.extend({ key: z.string() }) } },
    },
    ...errorResponses,
  },
});

const listKeysRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['keys'],
  summary: 'The tenant’s API keys (never the keys themselves)',
  security: bearer,
  middleware: [requireScope('admin')] as const,
  responses: {
    200: {
      description: 'Keys',
      content: { 'application/json': { schema: z.object({ keys: z.array(KeyViewSchema) }) } },
    },
    ...errorResponses,
  },
});

const revokeKeyRoute = createRoute({
  method: 'delete',
  path: '/{keyId}',
  tags: ['keys'],
  summary: 'Revoke an API key of the tenant (takes effect within 5 s on every replica)',
  security: bearer,
  middleware: [requireScope('admin')] as const,
  request: { params: z.object({ keyId: IdSchema.openapi({ param: { name: 'keyId', in: 'path' } }) }) },
  responses: {
    200: { description: 'The revoked key', content: { 'application/json': { schema: KeyViewSchema } } },
    ...errorResponses,
  },
});

/** `/v1/keys`: tenant admins manage their tenant's keys. */
export function keyRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createKeyRoute, async (c) => {
    const { name, scope } = c.req.valid('json');
    const key = generateApiKey();
    const record = await c.get('services').store.createApiKey({
      tenantId: c.get('principal').tenantId,
      name,
      scope,
      prefix: key.slice(0, 12),
      keyHash: hashApiKey(key),
    });
    return c.json({ ...keyView(record), key }, 201);
  });

  app.openapi(listKeysRoute, async (c) => {
    const keys = await c.get('services').store.listApiKeys(c.get('principal').tenantId);
    return c.json({ keys: keys.map(keyView) }, 200);
  });

  app.openapi(revokeKeyRoute, async (c) => {
    const { keyId } = c.req.valid('param');
    const { store } = c.get('services');
    const own = (await store.listApiKeys(c.get('principal').tenantId)).find((k) => k.id === keyId);
    if (!own) throw ApiError.notFound('key', keyId);
    const revoked = await store.revokeApiKey(keyId).catch((error: unknown) => {
      if (error instanceof NotFoundError) throw ApiError.notFound('key', keyId);
      throw error;
    });
    c.get('services').keys.invalidate();
    return c.json(keyView(revoked), 200);
  });
}

function keyView(k: ApiKeyRecord) {
  return {
    id: k.id,
    name: k.name,
    scope: k.scope,
    prefix: k.prefix,
    createdAt: k.createdAt.toISOString(),
    lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
    revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}
