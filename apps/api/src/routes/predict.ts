import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { requireScope } from '../auth/auth-middleware.js';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { bearer, errorResponses, IdSchema, ModelIdParams, NameSchema } from '../http/schemas.js';

const AdapterChoiceSchema = z
  .object({
    name: NameSchema,
    /** The adapter's version: sequence number (1, 2, ...) or version id; its latest live version when absent. */
    version: z
      .union([
        z.number().int().min(1),
        z
          .string()
          .regex(/^[1-9]\d{0,8}$/)
          .transform(Number),
        IdSchema,
      ])
      .optional(),
    /** Mixing weight of this adapter's update (default 1). */
    weight: z.number().min(-100).max(100).default(1),
  })
  .strict()
  .openapi('AdapterChoice');

/** Body of `POST /v1/models/{id}/predict`. */
export const PredictRequestSchema = z
  .object({
    /** One row of `inDim` finite numbers per input (at most `PEER_MAX_PREDICT_BATCH` rows). */
    inputs: z
      .array(z.array(z.number()))
      .min(1)
      .openapi({ example: [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]] }),
    /** Task head (task-incremental models); 0 by default. */
    task: z.number().int().min(0).max(1023).optional(),
    /** Pin a version (id); exclusive with `alias`. Neither: the model's head. */
    version: IdSchema.optional(),
    /** Serve the version an alias points to (e.g. `production`). */
    alias: NameSchema.optional(),
    /**
     * `none` (default), `auto` (retrieve by key similarity per input, DESIGN §3) or named adapters with
     * mixing weights.
     */
    adapters: z
      .union([z.enum(['none', 'auto']), z.array(AdapterChoiceSchema).min(1).max(16)])
      .default('none'),
    /** Also return, per input, the experts that fired (per layer and head) and the adapters chosen. */
    explain: z.boolean().default(false),
    /**
     * Correct the head's outputs by the class prototypes the version's training job saved (strategy
     * `class-prototypes`), as its held-out accuracy was measured; `false` serves the head alone.
     */
    prototypes: z.boolean().default(true),
  })
  .strict()
  .openapi('PredictRequest');

const ExplainSchema = z.object({
  layers: z.array(
    z.object({
      layer: z.string().openapi({ example: 'blocks.0.peer' }),
      heads: z.array(
        z.object({
          experts: z.array(
            z.object({
              id: z.number().openapi({ description: 'row * cols + col' }),
              row: z.number(),
              col: z.number(),
              gate: z.number(),
            }),
          ),
        }),
      ),
    }),
  ),
  adapters: z.array(
    z.object({
      name: z.string(),
      version: z.number(),
      versionId: z.string(),
      score: z.number().nullable(),
      weight: z.number(),
    }),
  ),
});

const PredictResponseSchema = z
  .object({
    model: z.string(),
    version: z.object({ id: z.string(), seq: z.number(), contentHash: z.string() }),
    /** The class prototypes that corrected the outputs (mode, space, weight, centroid count), else null. */
    prototypes: z
      .object({
        mode: z.enum(['task', 'product']),
        space: z.enum(['input', 'projection']),
        weight: z.number(),
        centroids: z.number(),
      })
      .nullable(),
    outputs: z.array(z.object({ class: z.number(), probabilities: z.array(z.number()) })),
    explain: z.array(ExplainSchema).optional(),
  })
  .openapi('PredictResponse');

const predictRoute = createRoute({
  method: 'post',
  path: '/{id}/predict',
  tags: ['predict'],
  summary: 'Classify inputs at a version, alias or the head, with adapters; optionally explain',
  description:
    'Served from memory: the version is resolved from a cache invalidated by alias notifications and the ' +
    'model is shared by every version of equal content. With `explain`, each input lists the experts ' +
    '(id, sub-key grid row/col, gate) of every head of every PEER layer, and the adapters mixed in with ' +
    'their key similarity and weight.',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: {
    params: ModelIdParams,
    body: { required: true, content: { 'application/json': { schema: PredictRequestSchema } } },
  },
  responses: {
    200: { description: 'Outputs', content: { 'application/json': { schema: PredictResponseSchema } } },
    413: errorResponses[422],
    ...errorResponses,
  },
});

/** `POST /v1/models/{id}/predict`. */
export function predictRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(predictRoute, async (c) => {
    const body = c.req.valid('json');
    const { env, serving, metrics } = c.get('services');
    const max = env.PEER_MAX_PREDICT_BATCH;
    if (body.inputs.length > max)
      throw ApiError.invalidField('inputs', `an array of length <= ${max}`, body.inputs.length);
    const { id } = c.req.valid('param');
    const result = await serving.predict(c.get('principal').tenantId, id, body);
    metrics.inc('peer_predict_inputs_total', 'Inputs classified by predict', {}, body.inputs.length);
    return c.json(result, 200);
  });
}
