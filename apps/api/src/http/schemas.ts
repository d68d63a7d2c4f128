import { z } from '@hono/zod-openapi';

/** Names of models, streams, aliases and adapters: safe in URLs, logs and SQL identifiers alike. */
export const NameSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
  .openapi({ example: 'mnist' });

/** A resource id (UUID). */
export const IdSchema = z.uuid().openapi({ example: '0b9f5c1e-3c7a-4e43-9d6e-2b1c0f4a7d11' });

export const ModelIdParams = z.object({
  id: IdSchema.openapi({ param: { name: 'id', in: 'path' } }),
});

/** The error body of every 4xx/5xx. */
export const ErrorSchema = z
  .object({
    error: z
      .object({
        code: z.string(),
        message: z.string(),
        field: z.string().optional(),
        bound: z.string().optional(),
        value: z.unknown().optional(),
      })
      .catchall(z.unknown()),
  })
  .openapi('Error');

/** Error responses every authenticated route can give. */
export const errorResponses = {
  401: {
    description: 'Missing or invalid API key',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  403: {
    description: 'The key’s scope is too small',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  404: {
    description: 'No such resource (or another tenant’s)',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  422: { description: 'A field broke a bound', content: { 'application/json': { schema: ErrorSchema } } },
  429: {
    description: 'Rate limit or queue depth exceeded',
    content: { 'application/json': { schema: ErrorSchema } },
  },
} as const;

/** Security requirement of routes that need an API key. */
export const bearer = [{ Bearer: [] }];
