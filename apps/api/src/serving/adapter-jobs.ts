import { z } from '@hono/zod-openapi';
import type { Model } from '@peer/adapter-store';
import type { Context } from 'hono';
import type { AppEnv } from '../http/app-env.js';
import { NameSchema } from '../http/schemas.js';
import { createTrainJob } from '../jobs/create-job.js';
import { jobView } from '../jobs/job-view.js';
import { TrainJobRequestSchema } from '../jobs/train-spec.js';

/** JSON body of `POST /v1/models/{id}/adapters`: train adapter `name` on stream `stream`. */
export const TrainAdapterRequestSchema = z
  .object({
    stream: NameSchema,
    name: NameSchema,
    rank: z.number().int().min(1).max(64).optional(),
    alpha: z.number().positive().max(10_000).optional(),
    iterations: z.number().int().min(1).max(100_000).optional(),
    batchSize: z.number().int().min(1).max(4096).optional(),
    learningRate: z.number().positive().max(1).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .strict()
  .openapi('TrainAdapterRequest');

/**
 * Queues a `train-adapter` job exactly as `POST /v1/models/{id}/jobs` with `adapter: {name, rank}` does (the
 * jobs module's validation, spec resolution, queue-depth limit and enqueue) and returns its job view.
 */
export async function createTrainAdapterJob(
  c: Context<AppEnv>,
  model: Model,
  body: z.output<typeof TrainAdapterRequestSchema>,
) {
  const { name, rank, alpha, ...training } = body;
  const request = TrainJobRequestSchema.parse({
    ...training,
    adapter: { name, ...(rank === undefined ? {} : { rank }), ...(alpha === undefined ? {} : { alpha }) },
  });
  return jobView(await createTrainJob(c, model, request));
}
