import { z } from '@hono/zod-openapi';
import type { Job } from '@peer/adapter-store';
import { trainSpecOf } from './train-spec.js';

/** The public view of a job (shared contract). */
export function jobView(job: Job) {
  const spec = trainSpecOf(job.spec);
  const progress = (job.progress ?? {}) as { step?: unknown; steps?: unknown; loss?: unknown };
  return {
    id: job.id,
    modelId: job.modelId,
    kind: job.kind,
    status: job.status,
    spec: job.spec,
    attempts: job.attempts,
    progress: {
      step:
        typeof progress.step === 'number' ? progress.step : job.status === 'succeeded' ? spec.iterations : 0,
      steps: typeof progress.steps === 'number' ? progress.steps : spec.iterations,
      loss: typeof progress.loss === 'number' ? progress.loss : null,
    },
    resultVersionId: job.resultVersionId,
    error: job.error,
    cancelRequested: job.cancelRequested,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

export const JobViewSchema = z
  .object({
    id: z.string(),
    modelId: z.string(),
    kind: z.enum(['train', 'train-adapter']),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    spec: z.unknown(),
    attempts: z.number(),
    progress: z.object({ step: z.number(), steps: z.number(), loss: z.number().nullable() }),
    resultVersionId: z.string().nullable(),
    error: z.unknown(),
    cancelRequested: z.boolean(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Job');
