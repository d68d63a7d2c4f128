import type { Job } from '@peer/adapter-store';

/**
 * Where queued training jobs wait for a worker. The store's job row is the record (status, attempts,
 * progress, events); a queue only delivers job ids to workers: pg-boss on PostgreSQL, so several
 * `peer worker` processes share the work, and an in-process loop on PGlite, which one process owns.
 */
export interface JobQueue {
  /** Which implementation (reported by `peer serve` / `peer worker`). */
  readonly name: 'in-process' | 'pg-boss';
  /** Hands a freshly created job to the workers (idempotent per job). */
  enqueue(job: Job): Promise<void>;
  /** Connects and, when this process works jobs, starts taking them. */
  start(): Promise<void>;
  /**
   * Stops taking jobs; a job in progress may finish within `graceMs`, after which it is stopped and handed
   * back unfinished (another worker claims it once its heartbeat is stale).
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}
