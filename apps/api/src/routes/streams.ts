import { randomUUID } from 'node:crypto';
import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { type AdapterStore, AlreadyExistsError, type Model, type Stream } from '@peer/adapter-store';
import { requireScope } from '../auth/auth-middleware.js';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { bearer, errorResponses, IdSchema, NameSchema } from '../http/schemas.js';
import { modelStream, ownedModel } from '../http/tenancy.js';
import { ingestNdjson } from '../ingest/ingest-stream.js';
import { classifierRecordCheck } from '../ingest/record-validator.js';
import { specOf } from '../models/model-spec.js';

/** Replay sample kept per stream for later jobs (DESIGN §2): enough for 100 examples per class of 10+. */
const REPLAY_CAPACITY = 2000;

const StreamParams = z.object({
  id: IdSchema.openapi({ param: { name: 'id', in: 'path' } }),
  stream: NameSchema.openapi({ param: { name: 'stream', in: 'path' } }),
});

const IngestResultSchema = z
  .object({
    ingestId: z.string(),
    streamId: z.string(),
    stream: z.string(),
    lines: z.number(),
    accepted: z.number(),
    rejected: z.number(),
    offsets: z.tuple([z.number(), z.number()]).nullable(),
    batches: z.number(),
    replayed: z.boolean(),
    errors: z.array(z.object({ line: z.number(), reason: z.string(), field: z.string().optional() })),
    errorsTruncated: z.boolean(),
  })
  .openapi('IngestResult');

const StreamViewSchema = z
  .object({ id: z.string(), name: z.string(), records: z.number(), createdAt: z.string() })
  .openapi('Stream');

const ingestRoute = createRoute({
  method: 'post',
  path: '/{id}/streams/{stream}/records',
  tags: ['streams'],
  summary: 'Ingest NDJSON records (one example a line); durable before the 202',
  description:
    'Validated line by line as the body arrives. Lines that fail validation are reported (line number, reason) ' +
    'and not stored; the rest are stored before the response. Replaying an `Idempotency-Key` with the same ' +
    'body returns the same result and stores nothing twice.',
  security: bearer,
  middleware: [requireScope('write')] as const,
  request: {
    params: StreamParams,
    headers: z.object({
      'idempotency-key': z
        .string()
        .regex(/^[A-Za-z0-9._:-]{1,180}$/)
        .optional()
        .openapi({ description: 'Client-chosen key of this ingest (letters, digits, . _ : -; ≤ 180)' }),
    }),
    body: {
      required: true,
      content: {
        'application/x-ndjson': {
          schema: z.string().openapi({ example: '{"x":[0.1,0.2],"y":1}\n{"x":[0.3,0.4],"y":0}\n' }),
        },
      },
    },
  },
  responses: {
    202: { description: 'Stored', content: { 'application/json': { schema: IngestResultSchema } } },
    409: errorResponses[422],
    413: errorResponses[422],
    415: errorResponses[422],
    ...errorResponses,
  },
});

const listStreamsRoute = createRoute({
  method: 'get',
  path: '/{id}/streams',
  tags: ['streams'],
  summary: 'Streams of a model',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: { params: z.object({ id: IdSchema.openapi({ param: { name: 'id', in: 'path' } }) }) },
  responses: {
    200: {
      description: 'Streams',
      content: { 'application/json': { schema: z.object({ streams: z.array(StreamViewSchema) }) } },
    },
    ...errorResponses,
  },
});

const getStreamRoute = createRoute({
  method: 'get',
  path: '/{id}/streams/{stream}',
  tags: ['streams'],
  summary: 'One stream',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: { params: StreamParams },
  responses: {
    200: { description: 'Stream', content: { 'application/json': { schema: StreamViewSchema } } },
    ...errorResponses,
  },
});

/** NDJSON ingest and stream listing under `/v1/models/{id}/streams`. */
export function streamRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(ingestRoute, async (c) => {
    const { id, stream: streamName } = c.req.valid('param');
    const { store, env, metrics } = c.get('services');
    const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-ndjson' && type !== 'application/jsonl') {
      throw new ApiError(415, 'unsupported_media_type', 'send the records as application/x-ndjson', {
        field: 'content-type',
        bound: 'application/x-ndjson',
        value: type || null,
      });
    }
    const declared = Number(c.req.header('content-length') ?? Number.NaN);
    if (declared > env.PEER_MAX_BODY_BYTES) {
      // Refused before reading the body: close the connection, or the unread body would be taken as the
      // next request on a kept-alive socket.
      throw new ApiError(
        413,
        'payload_too_large',
        `request body exceeds ${env.PEER_MAX_BODY_BYTES} bytes`,
        { field: 'body', bound: `<= ${env.PEER_MAX_BODY_BYTES} bytes`, value: declared },
        { Connection: 'close' },
      );
    }
    const model = await ownedModel(c, id);
    const spec = specOf(model);
    const stream = await ensureStream(store, model, streamName);
    const body = c.req.raw.body;
    if (!body) throw new ApiError(422, 'invalid_field', 'the request has no body', { field: 'body' });
    const result = await ingestNdjson({
      store,
      stream,
      idempotencyKey: c.req.valid('header')['idempotency-key'] ?? randomUUID(),
      body: body as unknown as AsyncIterable<Uint8Array>,
      check: classifierRecordCheck(spec.classifier),
      maxLineBytes: env.PEER_MAX_LINE_BYTES,
      maxBodyBytes: env.PEER_MAX_BODY_BYTES,
    });
    if (!result.replayed) {
      metrics.inc(
        'peer_records_ingested_total',
        'Records stored by ingest',
        { model: model.id },
        result.accepted,
      );
      metrics.inc(
        'peer_records_rejected_total',
        'NDJSON lines rejected by ingest',
        { model: model.id },
        result.rejected,
      );
    }
    return c.json(result, 202);
  });

  app.openapi(listStreamsRoute, async (c) => {
    const model = await ownedModel(c, c.req.valid('param').id);
    const streams = await c.get('services').store.listStreams(model.id);
    return c.json({ streams: streams.map(streamView) }, 200);
  });

  app.openapi(getStreamRoute, async (c) => {
    const { id, stream } = c.req.valid('param');
    const model = await ownedModel(c, id);
    return c.json(streamView(await modelStream(c, model, stream)), 200);
  });
}

function streamView(s: Stream) {
  return { id: s.id, name: s.name, records: s.nextOffset, createdAt: s.createdAt.toISOString() };
}

/** Streams this process has seen with their replay reservoir declared (saves a write per ingest). */
const declaredReservoirs = new Set<string>();

/**
 * The model's stream of this name, created on first ingest. Its replay reservoir is (re)declared, which is
 * idempotent, the first time this process sees the stream, so a creator that died between the two
 * statements leaves nothing half-made.
 */
async function ensureStream(store: AdapterStore, model: Model, name: string): Promise<Stream> {
  let stream = await store.findStream(model.id, name);
  if (!stream) {
    try {
      stream = await store.createStream({ modelId: model.id, name });
    } catch (error) {
      // Two first ingests raced: the other one created it.
      if (!(error instanceof AlreadyExistsError)) throw error;
      stream = await store.findStream(model.id, name);
      if (!stream) throw error;
    }
  }
  if (!declaredReservoirs.has(stream.id)) {
    await store.configureReplay(stream.id, { capacity: REPLAY_CAPACITY, seed: 0 });
    declaredReservoirs.add(stream.id);
  }
  return stream;
}
