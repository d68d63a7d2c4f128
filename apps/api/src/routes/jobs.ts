import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AdapterStore, Job, JobEvent } from '@peer/adapter-store';
import { streamSSE } from 'hono/streaming';
import { requireScope } from '../auth/auth-middleware.js';
import type { AppEnv } from '../http/app-env.js';
import { bearer, ErrorSchema, errorResponses, IdSchema, ModelIdParams } from '../http/schemas.js';
import { ownedModel } from '../http/tenancy.js';
import { createTrainJob } from '../jobs/create-job.js';
import { countJob } from '../jobs/job-metrics.js';
import { ownedJob } from '../jobs/job-tenancy.js';
import { JobViewSchema, jobView } from '../jobs/job-view.js';
import { TrainJobRequestSchema } from '../jobs/train-spec.js';

/** How often the event stream looks for new events (the log is in the database, shared by all replicas). */
const EVENT_POLL_MS = 250;
/** A comment line this often keeps proxies from closing an idle event stream. */
const KEEP_ALIVE_MS = 15_000;
/** How long a finished job's log may lack its terminal event before the stream derives one from the row. */
const TERMINAL_GRACE_MS = 3_000;
/** Events after which a job's stream ends. */
const TERMINAL = new Set(['done', 'failed', 'cancelled']);

const JobParams = z.object({ id: IdSchema.openapi({ param: { name: 'id', in: 'path' } }) });
const jobJson = (description: string) => ({
  description,
  content: { 'application/json': { schema: JobViewSchema } },
});

const createJobRoute = createRoute({
  method: 'post',
  path: '/{id}/jobs',
  tags: ['jobs'],
  summary:
    'Queue a training job: grow the pool and train on a stream (or train an adapter); 202 with the job',
  description:
    'Trains on the stream’s acknowledged records (about one in ten, chosen by a hash of its offset, is held out for evaluation). With ' +
    '`adapter`, trains a LoRA adapter of the model instead of growing it. A finished job commits a new version ' +
    'whose metrics hold held-out accuracy per stream, expert usage and the continual-learning summary.',
  security: bearer,
  middleware: [requireScope('write')] as const,
  request: {
    params: ModelIdParams,
    body: { required: true, content: { 'application/json': { schema: TrainJobRequestSchema } } },
  },
  responses: {
    202: jobJson('The queued job'),
    503: {
      description: 'The queue is unavailable',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    ...errorResponses,
  },
});

const listJobsRoute = createRoute({
  method: 'get',
  path: '/{id}/jobs',
  tags: ['jobs'],
  summary: 'Jobs of a model, newest first',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: {
    params: ModelIdParams,
    query: z.object({
      status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: {
    200: {
      description: 'Jobs',
      content: { 'application/json': { schema: z.object({ jobs: z.array(JobViewSchema) }) } },
    },
    ...errorResponses,
  },
});

const getJobRoute = createRoute({
  method: 'get',
  path: '/{id}',
  tags: ['jobs'],
  summary: 'One job: status, progress, result version or error',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: { params: JobParams },
  responses: { 200: jobJson('The job'), ...errorResponses },
});

const cancelJobRoute = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['jobs'],
  summary:
    'Cancel a job: a queued one at once, a running one at its next heartbeat (no version is committed)',
  security: bearer,
  middleware: [requireScope('write')] as const,
  request: { params: JobParams },
  responses: { 202: jobJson('The job (cancelled, or cancelRequested while it stops)'), ...errorResponses },
});

const eventsRoute = createRoute({
  method: 'get',
  path: '/{id}/events',
  tags: ['jobs'],
  summary: 'Server-sent events of a job: progress, metrics, then done, failed or cancelled (the stream ends)',
  description:
    'Each event’s `id:` is its sequence number; reconnecting with `Last-Event-ID` resumes after it. Events: ' +
    '`progress` {step, steps, loss, elapsedMs}, `metrics` {…}, `done` {versionId, metrics}, `failed` ' +
    '{error:{code,message}}, `cancelled` {}; `retrying` {attempt, error} when an attempt is retried.',
  security: bearer,
  middleware: [requireScope('read')] as const,
  request: {
    params: JobParams,
    headers: z.object({
      'last-event-id': z
        .string()
        .regex(/^\d{1,10}$/)
        .optional(),
    }),
  },
  responses: {
    200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...errorResponses,
  },
});

/** `/v1/models/{id}/jobs`: queue and list a model's training jobs. */
export function modelJobRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(createJobRoute, async (c) => {
    const model = await ownedModel(c, c.req.valid('param').id);
    const job = await createTrainJob(c, model, c.req.valid('json'));
    c.header('Location', `/v1/jobs/${job.id}`);
    return c.json(jobView(job), 202);
  });

  app.openapi(listJobsRoute, async (c) => {
    const model = await ownedModel(c, c.req.valid('param').id);
    const { status, limit } = c.req.valid('query');
    const jobs = await c.get('services').store.listJobs(model.id, { limit, ...(status ? { status } : {}) });
    return c.json({ jobs: jobs.map(jobView) }, 200);
  });
}

/** `/v1/jobs`: one job, its cancellation and its event stream. */
export function jobRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(getJobRoute, async (c) => c.json(jobView(await ownedJob(c, c.req.valid('param').id)), 200));

  app.openapi(cancelJobRoute, async (c) => {
    const job = await ownedJob(c, c.req.valid('param').id);
    const { store, metrics } = c.get('services');
    const after = await store.requestJobCancel(job.id);
    // A queued job is cancelled here and now (no worker will report it).
    if (job.status === 'queued' && after.status === 'cancelled') {
      await store.appendJobEvent(job.id, 'cancelled', {});
      countJob(metrics, 'cancelled');
    }
    return c.json(jobView(after), 202);
  });

  app.openapi(eventsRoute, async (c) => {
    const job = await ownedJob(c, c.req.valid('param').id);
    const { store } = c.get('services');
    const resumeAfter = Number(c.req.valid('header')['last-event-id'] ?? 0);
    return streamSSE(c, async (stream) => {
      let after = resumeAfter;
      let lastWrite = Date.now();
      let finalSince: number | undefined;
      // A draining replica ends its streams; clients reconnect elsewhere with Last-Event-ID.
      while (!stream.aborted && !c.get('services').lifecycle.draining) {
        const events = await store.listJobEvents(job.id, { afterSeq: after });
        for (const e of events) {
          await stream.writeSSE({ id: String(e.seq), event: e.type, data: JSON.stringify(e.data) });
          after = e.seq;
          lastWrite = Date.now();
          if (TERMINAL.has(e.type)) return;
        }
        if (events.length === 0) {
          // A job can end without a terminal event (out of attempts at claim, cancelled before its worker
          // saw it, a crash between finishing and appending): the job row then says how it ended.
          const current = await store.getJob(job.id);
          const final = await terminalFromState(store, current, after);
          // The runner finishes the job row and then appends its last events: give those a moment to land
          // before concluding that they never will.
          if (final) {
            finalSince ??= Date.now();
            if (Date.now() - finalSince >= TERMINAL_GRACE_MS) {
              await stream.writeSSE(final);
              return;
            }
          }
          if (Date.now() - lastWrite >= KEEP_ALIVE_MS) {
            await stream.write(': keep-alive\n\n');
            lastWrite = Date.now();
          }
          await stream.sleep(EVENT_POLL_MS);
        }
      }
    });
  });
}

/** The terminal event a finished job's row implies, once its log has nothing further. */
async function terminalFromState(
  store: AdapterStore,
  job: Job,
  after: number,
): Promise<{ event: string; data: string } | undefined> {
  if (job.status === 'queued' || job.status === 'running') return undefined;
  // Re-read: an event appended between the list and the status read must not be skipped.
  const late: JobEvent[] = await store.listJobEvents(job.id, { afterSeq: after });
  if (late.length > 0) return undefined;
  if (job.status === 'succeeded' && job.resultVersionId) {
    const version = await store.getVersion(job.resultVersionId);
    return { event: 'done', data: JSON.stringify({ versionId: version.id, metrics: version.metrics }) };
  }
  if (job.status === 'failed') return { event: 'failed', data: JSON.stringify({ error: job.error }) };
  return { event: 'cancelled', data: '{}' };
}
