import type { Job, Model } from '@peer/adapter-store';
import type { ClassifierManifest } from '@peer/core';
import type { Context } from 'hono';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { modelStream } from '../http/tenancy.js';
import { scenarioOf, specOf } from '../models/model-spec.js';
import { countJob } from './job-metrics.js';
import { checkStrategy } from './strategy-plugins.js';
import { resolveTrainSpec, type TrainJobRequest, type TrainSpec, trainSpecJson } from './train-spec.js';

/** Records a stream needs before a job can train on it: about one in ten is held out, the rest learned. */
export const MIN_STREAM_RECORDS = 10;
/** What a client with a full queue is told to wait (seconds): about one small job's run. */
const QUEUE_FULL_RETRY_AFTER = 30;

/**
 * Validates a job request against the model (stream exists and is long enough, strategy settings, growth
 * capacity, queue depth) and queues the job: the store row first, then the queue. A queue that cannot take
 * it cancels the row, so no job waits for a delivery that never comes.
 */
export async function createTrainJob(
  c: Context<AppEnv>,
  model: Model,
  request: TrainJobRequest,
): Promise<Job> {
  const { store, env, jobs, metrics } = c.get('services');
  const stream = await modelStream(c, model, request.stream);
  if (stream.nextOffset < MIN_STREAM_RECORDS) {
    throw ApiError.invalidField(
      'stream',
      `a stream with at least ${MIN_STREAM_RECORDS} records`,
      stream.nextOffset,
    );
  }
  const modelSpec = specOf(model);
  const spec = resolveTrainSpec(request, stream.id, modelSpec.defaultStrategy);
  if (!spec.adapter) await checkGrowth(c, model, spec);

  const depth = await store.countJobs({ statuses: ['queued', 'running'] });
  if (depth >= env.PEER_MAX_QUEUED_JOBS) {
    throw new ApiError(
      429,
      'queue_full',
      `the training queue is full (${depth} jobs queued or running)`,
      {
        bound: `< ${env.PEER_MAX_QUEUED_JOBS} queued or running jobs`,
        value: depth,
        retryAfterSeconds: QUEUE_FULL_RETRY_AFTER,
      },
      { 'Retry-After': String(QUEUE_FULL_RETRY_AFTER) },
    );
  }
  const job = await store.createJob({
    tenantId: c.get('principal').tenantId,
    modelId: model.id,
    kind: spec.adapter ? 'train-adapter' : 'train',
    spec: trainSpecJson(spec),
  });
  if (jobs) {
    try {
      await jobs.enqueue(job);
    } catch (error) {
      await store.requestJobCancel(job.id).catch(() => undefined);
      throw new ApiError(
        503,
        'unavailable',
        'the job queue is unavailable; try again',
        {},
        { 'Retry-After': '5' },
        {
          cause: error,
        },
      );
    }
  }
  countJob(metrics, 'queued');
  return job;
}

/** The strategy's settings, and room in every PEER layer for the rows a growing job will add. */
async function checkGrowth(c: Context<AppEnv>, model: Model, spec: TrainSpec): Promise<void> {
  const modelSpec = specOf(model);
  checkStrategy(
    spec.strategy,
    { rows: spec.rows, seed: spec.seed },
    { scenario: scenarioOf(modelSpec), inDim: modelSpec.classifier.inDim },
  );
  if (!spec.strategy.plugins.includes('freeze-and-grow')) return;
  const { store } = c.get('services');
  const head = model.headVersionId;
  if (!head) return;
  const lineage = await store.lineage(head);
  const manifest = lineage[0]?.config as unknown as ClassifierManifest | undefined;
  const layers = Object.values(manifest?.peer ?? {});
  if (specOf(model).classifier.ffn !== 'peer' || layers.length === 0) {
    throw ApiError.invalidField(
      'strategy.plugins',
      "without 'freeze-and-grow' for a model without PEER layers",
      spec.strategy.plugins,
    );
  }
  // The first training job trains the initial pool; later ones grow it.
  if (!lineage.some((v) => v.lineage.streamId !== null)) return;
  for (const layer of layers) {
    const active = layer.segments.reduce((a, b) => a + b, 0);
    const room = layer.config.capacityRows - active;
    if (spec.rows > room) {
      throw ApiError.invalidField(
        'rows',
        `<= ${room} (capacityRows ${layer.config.capacityRows} minus ${active} active rows)`,
        spec.rows,
      );
    }
  }
}
