import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { exportPeft, type LoraAdapter, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '@peer/core';
import type { Context } from 'hono';
import { requireScope } from '../auth/auth-middleware.js';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { bearer, errorResponses, IdSchema, NameSchema } from '../http/schemas.js';
import { ownedModel } from '../http/tenancy.js';
import { createTrainAdapterJob, TrainAdapterRequestSchema } from '../serving/adapter-jobs.js';
import {
  adapterView,
  announceAdapters,
  commitUploadedAdapter,
  findAdapterLine,
  listAdapterLines,
  removeAdapter,
} from '../serving/adapter-lines.js';
import { fileBytes, fileText, importUpload, retrievalKey } from '../serving/adapter-upload.js';
import { isRemoved, loraFromStored } from '../serving/stored-adapter.js';

const id = IdSchema.openapi({ param: { name: 'id', in: 'path' } });
const ModelParams = z.object({ id });
const AdapterParams = z.object({ id, name: NameSchema.openapi({ param: { name: 'name', in: 'path' } }) });

const VersionSchema = z.object({
  id: z.string(),
  seq: z.number(),
  removed: z.boolean(),
  message: z.string(),
  author: z.string(),
  createdAt: z.string(),
});
const AdapterSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    targetLayer: z.string(),
    rank: z.number(),
    alpha: z.number(),
    keyed: z.boolean().openapi({ description: 'Has a retrieval key, so `adapters: "auto"` can choose it' }),
    removed: z.boolean(),
    head: z.object({ id: z.string(), seq: z.number() }),
    versions: z.array(VersionSchema),
  })
  .openapi('Adapter');

/** Multipart upload of a Hugging Face PEFT LoRA adapter. */
const UploadSchema = z
  .object({
    name: NameSchema,
    // Optional to the validator only: the handler names a missing file in its 422.
    [PEFT_WEIGHTS_FILE]: z.unknown().optional().openapi({ type: 'string', format: 'binary' }),
    [PEFT_CONFIG_FILE]: z.unknown().optional().openapi({ type: 'string', format: 'binary' }),
    /**
     * Retrieval key as a JSON array of numbers (the model's adapter-embedding width). Else the key in the
     * safetensors metadata (`peer.retrieval_key`, written by this API's export), else zeros: an adapter
     * without a key is used only when named, never by `auto`.
     */
    key: z.string().optional(),
  })
  .openapi('AdapterUpload');

const json = (schema: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const createAdapterRoute = createRoute({
  method: 'post',
  path: '/{id}/adapters',
  tags: ['adapters'],
  summary: 'Train an adapter from a stream (JSON, 202 + job) or upload PEFT files (multipart, 201)',
  description:
    'JSON `{stream, name, rank?, alpha?, iterations?}` queues a `train-adapter` job. Multipart with the files ' +
    '`adapter_model.safetensors` and `adapter_config.json` and a `name` field imports a LoRA adapter of ' +
    'one linear module (`input`, `heads.<t>`, dense `blocks.<i>.ffn.up|down`), checked against the model; ' +
    'uploading an existing name adds a version.',
  security: bearer,
  middleware: [requireScope('write')] as const,
  request: {
    params: ModelParams,
    body: {
      required: false,
      content: {
        'application/json': { schema: TrainAdapterRequestSchema },
        'multipart/form-data': { schema: UploadSchema },
      },
    },
  },
  responses: {
    201: json(AdapterSchema, 'Uploaded'),
    202: json(z.record(z.string(), z.unknown()), 'The training job'),
    409: errorResponses[422],
    413: errorResponses[422],
    415: errorResponses[422],
    ...errorResponses,
  },
});

const listAdaptersRoute = createRoute({
  method: 'get',
  path: '/{id}/adapters',
  tags: ['adapters'],
  summary: 'Adapters of a model with their versions (removed ones only with `includeRemoved=true`)',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: { params: ModelParams, query: z.object({ includeRemoved: z.enum(['true', 'false']).optional() }) },
  responses: { 200: json(z.object({ adapters: z.array(AdapterSchema) }), 'Adapters'), ...errorResponses },
});

const getAdapterRoute = createRoute({
  method: 'get',
  path: '/{id}/adapters/{name}',
  tags: ['adapters'],
  summary: 'One adapter and its history (also when removed)',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: { params: AdapterParams },
  responses: { 200: json(AdapterSchema, 'The adapter'), ...errorResponses },
});

const deleteAdapterRoute = createRoute({
  method: 'delete',
  path: '/{id}/adapters/{name}',
  tags: ['adapters'],
  summary: 'Remove an adapter: a final version marks it removed; its history stays readable',
  security: bearer,
  middleware: [requireScope('write')] as const,
  request: { params: AdapterParams },
  responses: { 200: json(AdapterSchema, 'Removed'), ...errorResponses },
});

const exportRoute = createRoute({
  method: 'get',
  path: '/{id}/adapters/{name}/export',
  tags: ['adapters'],
  summary: 'Export in Hugging Face PEFT format',
  description:
    '`?file=adapter_model.safetensors` answers the weights file, `?file=adapter_config.json` the config; ' +
    'without `file`, JSON with both (`adapter_config.json` as text, the safetensors base64). `version` is a ' +
    'sequence number or version id (default: the live head). Name, version and retrieval key travel in the ' +
    'safetensors metadata, so an export uploads back unchanged.',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: {
    params: AdapterParams,
    query: z.object({
      file: z.enum([PEFT_WEIGHTS_FILE, PEFT_CONFIG_FILE]).optional(),
      version: z
        .string()
        .regex(/^(\d{1,9}|[0-9a-fA-F-]{36})$/)
        .optional(),
    }),
  },
  responses: {
    200: {
      description: 'The PEFT files',
      content: {
        'application/json': {
          schema: z.object({
            name: z.string(),
            version: z.number(),
            files: z.record(z.string(), z.string()),
          }),
        },
        'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
    ...errorResponses,
  },
});

/** Adapters of a model under `/v1/models`: train or upload, list, get, remove, export. */
export function adapterRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createAdapterRoute, async (c) => {
    const model = await ownedModel(c, c.req.valid('param').id);
    const type = c.req.header('content-type') ?? '';
    if (/^application\/json/i.test(type)) {
      const body = c.req.valid('json') as z.output<typeof TrainAdapterRequestSchema>;
      if (!('stream' in body)) throw ApiError.invalidField('stream', 'a stream name', undefined);
      const job = await createTrainAdapterJob(c, model, body);
      c.header('Location', `/v1/jobs/${job.id}`);
      return c.json(job, 202);
    }
    if (!/^multipart\/form-data/i.test(type)) {
      throw new ApiError(
        415,
        'unsupported_media_type',
        'send application/json (train) or multipart/form-data (upload)',
      );
    }
    const { store, serving } = c.get('services');
    const form = await c.req.parseBody();
    const name = NameSchema.safeParse(form.name);
    if (!name.success) throw ApiError.invalidField('name', 'an adapter name', form.name);
    const files = {
      config: await fileText(form, PEFT_CONFIG_FILE),
      weights: await fileBytes(form, PEFT_WEIGHTS_FILE),
    };
    const version = await serving.resolver.version(model.headVersionId ?? '');
    const lease = await serving.lease(version);
    let adapter: LoraAdapter | undefined;
    try {
      adapter = importUpload(lease.value, files, name.data);
      const key = retrievalKey(lease.value, form.key, adapter.key);
      await commitUploadedAdapter(store, {
        modelId: model.id,
        name: name.data,
        adapter,
        key,
        author: `key:${c.get('principal').keyId}`,
      });
    } finally {
      adapter?.dispose();
      lease.release();
    }
    await changed(c, model.id);
    return c.json(adapterView(await findAdapterLine(store, model.id, name.data)), 201);
  });

  app.openapi(listAdaptersRoute, async (c) => {
    const model = await ownedModel(c, c.req.valid('param').id);
    const all = c.req.valid('query').includeRemoved === 'true';
    const lines = await listAdapterLines(c.get('services').store, model.id);
    return c.json({ adapters: lines.filter((l) => all || !l.removed).map(adapterView) }, 200);
  });

  app.openapi(getAdapterRoute, async (c) => {
    const { id: modelId, name } = c.req.valid('param');
    const model = await ownedModel(c, modelId);
    const line = await findAdapterLine(c.get('services').store, model.id, name, { includeRemoved: true });
    return c.json(adapterView(line), 200);
  });

  app.openapi(deleteAdapterRoute, async (c) => {
    const { id: modelId, name } = c.req.valid('param');
    const model = await ownedModel(c, modelId);
    const { store } = c.get('services');
    const line = await findAdapterLine(store, model.id, name);
    await removeAdapter(store, line, `key:${c.get('principal').keyId}`);
    await changed(c, model.id);
    return c.json(adapterView(await findAdapterLine(store, model.id, name, { includeRemoved: true })), 200);
  });

  app.openapi(exportRoute, async (c) => {
    const { id: modelId, name } = c.req.valid('param');
    const { file, version } = c.req.valid('query');
    const model = await ownedModel(c, modelId);
    const { store } = c.get('services');
    const line = await findAdapterLine(store, model.id, name, { includeRemoved: version !== undefined });
    const chosen =
      version === undefined
        ? line.head
        : line.versions.find((v) => String(v.seq) === version || v.id === version);
    if (!chosen || isRemoved(chosen))
      throw ApiError.notFound('adapter version', `${name}@${version ?? 'head'}`);
    const adapter = loraFromStored(await store.loadAdapterVersion(chosen.id));
    let files: ReturnType<typeof exportPeft>;
    try {
      files = exportPeft(adapter);
    } finally {
      adapter.dispose();
    }
    const disposition = (f: string) => ({ 'content-disposition': `attachment; filename="${f}"` });
    if (file === PEFT_WEIGHTS_FILE) {
      return c.body(files.weights as Uint8Array<ArrayBuffer>, 200, {
        'content-type': 'application/octet-stream',
        ...disposition(file),
      });
    }
    if (file === PEFT_CONFIG_FILE) {
      return c.body(files.config, 200, { 'content-type': 'application/json', ...disposition(file) });
    }
    return c.json(
      {
        name,
        version: chosen.seq,
        files: {
          [PEFT_CONFIG_FILE]: files.config,
          [PEFT_WEIGHTS_FILE]: Buffer.from(files.weights).toString('base64'),
        },
      },
      200,
    );
  });
}

/** Reloads this replica's adapters of the model now and tells the other replicas. */
async function changed(c: Context<AppEnv>, modelId: string): Promise<void> {
  const { serving, store } = c.get('services');
  serving.adapters.invalidate(modelId);
  await announceAdapters(store, modelId);
}
