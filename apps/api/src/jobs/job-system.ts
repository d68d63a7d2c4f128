import { hostname } from 'node:os';
import type { AdapterStore } from '@peer/adapter-store';
import type { ApiEnv } from '../env.js';
import { logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { InProcessQueue } from './in-process-queue.js';
import type { JobQueue } from './job-queue.js';
import { JobRunner, type JobRunnerOptions } from './job-runner.js';
import { PgBossQueue } from './pg-boss-queue.js';
import { TrainThread } from './train-thread.js';

/** The job queue of a process and, when it works jobs, its runner and training thread. */
export interface JobSystem {
  readonly queue: JobQueue;
  readonly runner: JobRunner | undefined;
  /** Stops taking jobs (a running one gets `graceMs` to finish, then is handed back) and the thread. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** A worker id unique across machines and processes: it names the owner of a claimed job. */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The queue the driver calls for: pg-boss on PostgreSQL (`DATABASE_URL`), the in-process queue on PGlite.
 * With `work` the process also runs jobs, one at a time, in one training thread.
 */
export function createJobSystem(input: {
  env: ApiEnv;
  store: AdapterStore;
  metrics?: Metrics;
  work: boolean;
  runner?: Partial<Omit<JobRunnerOptions, 'store' | 'thread' | 'metrics'>>;
  pollingIntervalSeconds?: number;
}): JobSystem {
  const thread = input.work ? new TrainThread() : undefined;
  const runner = thread
    ? new JobRunner({
        store: input.store,
        thread,
        workerId: input.runner?.workerId ?? defaultWorkerId(),
        ...(input.metrics ? { metrics: input.metrics } : {}),
        ...input.runner,
      })
    : undefined;
  const url = input.env.DATABASE_URL;
  if (!url && !input.work) {
    logger.warn('embedded database without an in-process worker: training jobs will stay queued');
  }
  const queue: JobQueue = url
    ? new PgBossQueue({
        connectionString: url,
        ...(runner ? { runner } : {}),
        ...(input.pollingIntervalSeconds ? { pollingIntervalSeconds: input.pollingIntervalSeconds } : {}),
      })
    : new InProcessQueue(runner, async () => (await input.store.listUnfinishedJobs()).map((j) => j.id));
  return {
    queue,
    runner,
    async close(options = {}) {
      try {
        await queue.stop(options);
      } finally {
        await thread?.close();
      }
    },
  };
}

/** `peer_jobs_queued`: jobs waiting for a worker, read from the store at scrape time (all replicas agree). */
export function registerJobMetrics(metrics: Metrics, store: AdapterStore): void {
  metrics.gauge('peer_jobs_queued', 'Training jobs waiting for a worker', async () => [
    [{}, await store.countJobs({ statuses: ['queued'] })],
  ]);
  metrics.gauge('peer_jobs_running', 'Training jobs being trained', async () => [
    [{}, await store.countJobs({ statuses: ['running'] })],
  ]);
}
