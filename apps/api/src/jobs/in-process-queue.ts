import { logger } from '../observability/logger.js';
import type { JobQueue } from './job-queue.js';
import type { JobRunner } from './job-runner.js';

/**
 * The embedded (PGlite) queue: job ids wait in memory and one loop runs them one at a time through the same
 * `JobRunner` as pg-boss workers. A failed attempt with attempts left is taken up again once its heartbeat
 * is stale. Without a runner (`PEER_INPROCESS_WORKER=0`) jobs stay queued in the store.
 */
export class InProcessQueue implements JobQueue {
  readonly name = 'in-process';
  private readonly pending: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly shutdown = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;

  /**
   * @param recover lists the ids of jobs left queued or running by an earlier process (a restart, or a
   *   SIGKILL): the embedded database has no other worker that could resume them.
   */
  constructor(
    private readonly runner: JobRunner | undefined,
    private readonly recover?: () => Promise<readonly string[]>,
  ) {}

  async enqueue(job: { id: string }): Promise<void> {
    if (this.stopping) return;
    this.pending.push(job.id);
    this.wake?.();
  }

  async start(): Promise<void> {
    if (!this.runner || this.loop) return;
    for (const id of (await this.recover?.()) ?? []) {
      if (!this.pending.includes(id)) this.pending.push(id);
    }
    this.loop = this.run(this.runner);
  }

  async stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.wake?.();
    const grace = setTimeout(() => this.shutdown.abort(), options.graceMs ?? 30_000);
    try {
      await this.loop;
    } finally {
      clearTimeout(grace);
    }
  }

  /** Jobs waiting in this process (not counting the one running). */
  get waiting(): number {
    return this.pending.length;
  }

  private async run(runner: JobRunner): Promise<void> {
    while (!this.stopping) {
      const id = this.pending.shift();
      if (id === undefined) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      try {
        // No other process can resume a job of the embedded database: one cut off by shutdown fails instead.
        const outcome = await runner.run(id, { signal: this.shutdown.signal, onShutdown: 'fail' });
        if (outcome.kind === 'retry') this.later(id, outcome.retryAfterMs);
        // Still running under a heartbeat that is not stale yet (a just-failed attempt of this process, or a
        // crashed one): look again once it is.
        else if (outcome.kind === 'skipped' && outcome.job.status === 'running')
          this.later(id, runner.staleAfterMs);
        else if (outcome.kind === 'abandoned' && outcome.reason === 'crash')
          this.later(id, runner.staleAfterMs);
      } catch (error) {
        // The store was unreachable: try the job again later rather than dropping it.
        logger.error('training job attempt failed unexpectedly', { jobId: id, error });
        this.later(id, runner.staleAfterMs);
      }
    }
  }

  /** Re-queues a job once it can be claimed again (its heartbeat stale). */
  private later(id: string, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.enqueue({ id });
    }, delayMs + 100);
    timer.unref();
    this.timers.add(timer);
  }
}
