import type { PgBoss } from 'pg-boss';
import { logger } from '../observability/logger.js';
import { JobError } from './job-errors.js';
import type { JobQueue } from './job-queue.js';
import type { JobRunner } from './job-runner.js';

/** The pg-boss queue of training jobs. */
export const TRAIN_QUEUE = 'peer-train';

/** Settings of a {@link PgBossQueue}. */
export interface PgBossQueueOptions {
  readonly connectionString: string;
  /** Works jobs in this process (a `peer worker`, or `peer serve` with the in-process worker on). */
  readonly runner?: JobRunner;
  /** How often an idle worker polls (pg-boss's minimum is 0.5 s; 2 s is its default). */
  readonly pollingIntervalSeconds?: number;
  /** Deliveries of one job: store attempts are bounded by the job's `maxAttempts`, this only must exceed it. */
  readonly retryLimit?: number;
  /** pg-boss's own schema (default `pgboss`). */
  readonly schema?: string;
}

/**
 * Training jobs through pg-boss on the deployment's PostgreSQL, so any number of `peer worker` processes on
 * any number of machines share them (SKIP LOCKED fetches; a job is delivered to one worker at a time).
 *
 * Why pg-boss rather than graphile-worker: it takes a plain connection string, bounds retries per queue
 * (`retryLimit`, `retryDelay`), recovers a dead worker's job by its own heartbeat or expiry within seconds
 * (graphile-worker unlocks a crashed worker's job only after 4 hours), and can address a job by our id.
 *
 * The store's job row stays the record: pg-boss delivers the job id, the `JobRunner` claims the row and
 * decides. A delivery that cannot run yet (an attempt handed back whose heartbeat is not stale, a job still
 * held by a live worker) throws, so pg-boss delivers it again after `retryDelay`; a job already final
 * completes the delivery without work. A crashed worker's pg-boss job is redelivered and its store row
 * reclaimed once stale, and the runner finds any version that attempt committed instead of committing twice.
 */
export class PgBossQueue implements JobQueue {
  readonly name = 'pg-boss';
  private boss: PgBoss | undefined;
  private readonly shutdown = new AbortController();

  constructor(private readonly options: PgBossQueueOptions) {}

  async start(): Promise<void> {
    if (this.boss) return;
    // Loaded on first use: the embedded (PGlite) deployment never needs pg-boss.
    const { PgBoss: Boss } = await import('pg-boss');
    const boss = new Boss({
      connectionString: this.options.connectionString,
      // A dead worker's job is noticed by the monitor: every 15 s instead of pg-boss's 60 s default, so it is
      // retried within ~50 s of a SIGKILL (measured; ~97 s with the defaults).
      monitorIntervalSeconds: 15,
      superviseIntervalSeconds: 15,
      ...(this.options.schema ? { schema: this.options.schema } : {}),
    });
    boss.on('error', (error) => logger.error('pg-boss error', { error }));
    await boss.start();
    const staleSeconds = Math.ceil((this.options.runner?.staleAfterMs ?? 15_000) / 1000);
    await boss.createQueue(TRAIN_QUEUE, {
      retryLimit: this.options.retryLimit ?? 20,
      // A handed-back attempt is claimable once its store heartbeat is stale.
      retryDelay: staleSeconds + 1,
      // pg-boss's own heartbeat from the working process; a silent job is redelivered (crashed worker).
      heartbeatSeconds: 30,
      // The backstop when no heartbeat arrives either: longer than any training run.
      expireInSeconds: 24 * 3600,
    });
    this.boss = boss;
    const runner = this.options.runner;
    if (!runner) return;
    await boss.work(
      TRAIN_QUEUE,
      { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 },
      async ([delivery]: { data: { jobId?: unknown } }[]) => {
        const jobId = delivery?.data.jobId;
        if (typeof jobId !== 'string') return;
        const outcome = await runner.run(jobId, { signal: this.shutdown.signal });
        if (outcome.kind === 'retry') throw outcome.error;
        if (outcome.kind === 'abandoned' && outcome.reason !== 'lost') {
          throw new JobError('internal', `attempt stopped (${outcome.reason}); handed back`, true);
        }
        if (outcome.kind === 'skipped' && outcome.job.status === 'running') {
          throw new JobError('internal', 'job is held by a worker whose heartbeat is not stale yet', true);
        }
      },
    );
  }

  async enqueue(job: { id: string }): Promise<void> {
    if (!this.boss) throw new JobError('internal', 'the job queue is not started', true);
    // Our id as pg-boss's: enqueueing one job twice is a no-op.
    await this.boss.send(TRAIN_QUEUE, { jobId: job.id }, { id: job.id, singletonKey: job.id });
  }

  async stop(options: { graceMs?: number } = {}): Promise<void> {
    const boss = this.boss;
    if (!boss) return;
    this.boss = undefined;
    const graceMs = options.graceMs ?? 30_000;
    // Past the grace period the running job is stopped and handed back for another worker.
    const timer = setTimeout(() => this.shutdown.abort(), graceMs);
    try {
      await boss.stop({ graceful: true, timeout: graceMs + 5_000 });
    } finally {
      clearTimeout(timer);
    }
  }
}
