import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { requireScope } from '../auth/auth-middleware.js';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { bearer, errorResponses, IdSchema, NameSchema } from '../http/schemas.js';
import { ownedModel } from '../http/tenancy.js';
import { pointAlias, versionOf } from '../serving/alias-update.js';
import {
  AliasMoveSchema,
  AliasSchema,
  aliasMoveView,
  aliasView,
  BlockSchema,
  blockView,
  DiffSchema,
  diffView,
  VersionSummarySchema,
  versionSummary,
} from '../serving/version-views.js';

/** A version in a path: its id, or its sequence number on the model's line (1, 2, ...). */
const VersionRefSchema = z
  .string()
  .regex(/^(\d{1,9}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/)
  .openapi({ example: '2', description: 'version id or sequence number' });

const id = IdSchema.openapi({ param: { name: 'id', in: 'path' } });
const ModelParams = z.object({ id });
const VersionParams = z.object({ id, v: VersionRefSchema.openapi({ param: { name: 'v', in: 'path' } }) });
const DiffParams = z.object({
  id,
  a: VersionRefSchema.openapi({ param: { name: 'a', in: 'path' } }),
  b: VersionRefSchema.openapi({ param: { name: 'b', in: 'path' } }),
});
const AliasParams = z.object({ id, name: NameSchema.openapi({ param: { name: 'name', in: 'path' } }) });

const PutAliasSchema = z
  .object({
    /** Target version: id or sequence number. */
    version: z.union([IdSchema, z.number().int().min(1)]).optional(),
    /** The same as `version` (id only), for clients that name the field after the id. */
    versionId: IdSchema.optional(),
    /** Optimistic concurrency: move only if the alias still points at this version id (409 otherwise). */
    expectedVersion: IdSchema.optional(),
    /** Why (kept in the alias log). */
    reason: z.string().max(1000).optional(),
  })
  .strict()
  .openapi('PutAlias');

const RollbackSchema = z.object({ reason: z.string().max(1000).optional() }).strict();

const VersionDetailSchema = VersionSummarySchema.extend({
  ancestors: z.array(
    z.object({ id: z.string(), seq: z.number(), message: z.string(), createdAt: z.string() }),
  ),
  stream: z.string().nullable(),
  aliases: z.array(z.string()),
  layers: z.record(z.string(), z.unknown()),
  blocks: z.array(BlockSchema),
}).openapi('Version');

const ok = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const read = { security: bearer, middleware: [requireScope('read')] };
const write = { security: bearer, middleware: [requireScope('write')] };

const listVersionsRoute = createRoute({
  method: 'get',
  path: '/{id}/versions',
  tags: ['versions'],
  summary: 'The model’s versions in commit order (metrics without usage grids)',
  ...read,
  request: { params: ModelParams },
  responses: {
    200: ok(z.object({ versions: z.array(VersionSummarySchema) }), 'Versions'),
    ...errorResponses,
  },
});

const getVersionRoute = createRoute({
  method: 'get',
  path: '/{id}/versions/{v}',
  tags: ['versions'],
  summary: 'One version: lineage, metrics, layers and blocks',
  ...read,
  request: { params: VersionParams },
  responses: { 200: ok(VersionDetailSchema, 'The version'), ...errorResponses },
});

const diffRoute = createRoute({
  method: 'get',
  path: '/{id}/versions/{a}/diff/{b}',
  tags: ['versions'],
  summary: 'Blocks (and sub-key row ranges) that differ from version a to b',
  ...read,
  request: { params: DiffParams },
  responses: { 200: ok(DiffSchema, 'The difference'), ...errorResponses },
});

const listAliasesRoute = createRoute({
  method: 'get',
  path: '/{id}/aliases',
  tags: ['versions'],
  summary: 'The model’s aliases',
  ...read,
  request: { params: ModelParams },
  responses: { 200: ok(z.object({ aliases: z.array(AliasSchema) }), 'Aliases'), ...errorResponses },
});

const getAliasRoute = createRoute({
  method: 'get',
  path: '/{id}/aliases/{name}',
  tags: ['versions'],
  summary: 'One alias',
  ...read,
  request: { params: AliasParams },
  responses: { 200: ok(AliasSchema, 'The alias'), ...errorResponses },
});

const putAliasRoute = createRoute({
  method: 'put',
  path: '/{id}/aliases/{name}',
  tags: ['versions'],
  summary: 'Point an alias at a version (created if new); every move is logged and served at once',
  ...write,
  request: {
    params: AliasParams,
    body: { required: true, content: { 'application/json': { schema: PutAliasSchema } } },
  },
  responses: {
    200: ok(AliasSchema, 'Moved'),
    201: ok(AliasSchema, 'Created'),
    409: errorResponses[422],
    ...errorResponses,
  },
});

const historyRoute = createRoute({
  method: 'get',
  path: '/{id}/aliases/{name}/history',
  tags: ['versions'],
  summary: 'Every move of an alias, oldest first (who, when, from, to, why)',
  ...read,
  request: { params: AliasParams },
  responses: { 200: ok(z.object({ moves: z.array(AliasMoveSchema) }), 'Moves'), ...errorResponses },
});

const rollbackRoute = createRoute({
  method: 'post',
  path: '/{id}/aliases/{name}/rollback',
  tags: ['versions'],
  summary: 'Move an alias back to where its last move came from (logged; twice toggles)',
  ...write,
  request: {
    params: AliasParams,
    body: { required: false, content: { 'application/json': { schema: RollbackSchema } } },
  },
  responses: { 200: ok(AliasSchema, 'Rolled back'), ...errorResponses },
});

/** Versions, diffs and aliases of a model under `/v1/models`. */
export function versionRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(listVersionsRoute, async (c) => {
    const model = await ownedModel(c, c.req.valid('param').id);
    const versions = await c.get('services').store.listVersions(model.id);
    return c.json({ versions: versions.map(versionSummary) }, 200);
  });

  app.openapi(getVersionRoute, async (c) => {
    const { id: modelId, v } = c.req.valid('param');
    const model = await ownedModel(c, modelId);
    const { store } = c.get('services');
    const version = await versionOf(c.get('services').store, model, v);
    const [ancestors, manifest, aliases, streams] = await Promise.all([
      store.lineage(version.id),
      store.getManifest(version.id),
      store.listAliases(model.id),
      store.listStreams(model.id),
    ]);
    const layers = (version.config as { peer?: Record<string, unknown> } | null)?.peer ?? {};
    return c.json(
      {
        ...versionSummary(version),
        metrics: version.metrics,
        ancestors: ancestors.slice(1).map((a) => ({
          id: a.id,
          seq: a.seq,
          message: a.message,
          createdAt: a.createdAt.toISOString(),
        })),
        stream: streams.find((s) => s.id === version.lineage.streamId)?.name ?? null,
        aliases: aliases.filter((a) => a.versionId === version.id).map((a) => a.name),
        layers,
        blocks: manifest.map(blockView),
      },
      200,
    );
  });

  app.openapi(diffRoute, async (c) => {
    const { id: modelId, a, b } = c.req.valid('param');
    const model = await ownedModel(c, modelId);
    const [from, to] = await Promise.all([
      versionOf(c.get('services').store, model, a),
      versionOf(c.get('services').store, model, b),
    ]);
    const diff = await c.get('services').store.diffVersions(from.id, to.id);
    return c.json(diffView(diff, from, to), 200);
  });

  app.openapi(listAliasesRoute, async (c) => {
    const model = await ownedModel(c, c.req.valid('param').id);
    const { store } = c.get('services');
    const [aliases, versions] = await Promise.all([
      store.listAliases(model.id),
      store.listVersions(model.id),
    ]);
    const byId = new Map(versions.map((v) => [v.id, v]));
    return c.json({ aliases: aliases.map((a) => aliasView(a, byId.get(a.versionId))) }, 200);
  });

  app.openapi(getAliasRoute, async (c) => {
    const { id: modelId, name } = c.req.valid('param');
    const model = await ownedModel(c, modelId);
    const { store } = c.get('services');
    const alias = await store.getAlias(model.id, name);
    return c.json(aliasView(alias, await store.getVersion(alias.versionId)), 200);
  });

  app.openapi(putAliasRoute, async (c) => {
    const { id: modelId, name } = c.req.valid('param');
    const body = c.req.valid('json');
    const model = await ownedModel(c, modelId);
    const { store, serving } = c.get('services');
    const ref = body.version ?? body.versionId;
    if (ref === undefined || (body.version !== undefined && body.versionId !== undefined)) {
      throw ApiError.invalidField(
        'version',
        'given (a version id or sequence number), and not with versionId',
        ref,
      );
    }
    const target = await versionOf(store, model, String(ref));
    const { alias, created } = await pointAlias(store, {
      model,
      name,
      target,
      expectedVersion: body.expectedVersion,
      actor: `key:${c.get('principal').keyId}`,
      ...(body.reason ? { reason: body.reason } : {}),
    });
    // Serve the new target here at once; other replicas learn it from the alias notification.
    serving.resolver.noteAlias({ modelId: model.id, name, versionId: alias.versionId });
    return c.json(aliasView(alias, target), created ? 201 : 200);
  });

  app.openapi(historyRoute, async (c) => {
    const { id: modelId, name } = c.req.valid('param');
    const model = await ownedModel(c, modelId);
    const { store } = c.get('services');
    const [moves, versions] = await Promise.all([
      store.aliasHistory(model.id, name),
      store.listVersions(model.id),
    ]);
    if (moves.length === 0) await store.getAlias(model.id, name); // 404 for an alias that never existed
    const seqs = new Map(versions.map((v) => [v.id, v.seq]));
    const seqOf = (versionId: string | null) => (versionId === null ? null : (seqs.get(versionId) ?? null));
    return c.json({ moves: moves.map((m) => aliasMoveView(m, seqOf)) }, 200);
  });

  app.openapi(rollbackRoute, async (c) => {
    const { id: modelId, name } = c.req.valid('param');
    const body = c.req.valid('json') as z.output<typeof RollbackSchema>;
    const model = await ownedModel(c, modelId);
    const { store, serving } = c.get('services');
    const alias = await store.rollbackAlias({
      modelId: model.id,
      name,
      actor: `key:${c.get('principal').keyId}`,
      ...(body.reason ? { reason: body.reason } : {}),
    });
    serving.resolver.noteAlias({ modelId: model.id, name, versionId: alias.versionId });
    return c.json(aliasView(alias, await store.getVersion(alias.versionId)), 200);
  });
}
