import { type AdapterStore, JobStateError, type JsonObject } from '@peer/adapter-store';
import { logger } from '../observability/logger.js';

/** Why a heartbeat stopped the run it guards. */
export type HeartbeatStop = 'cancel' | 'lost';

/**
 * Keeps a claimed job alive while it trains: every `intervalMs` it refreshes the job's heartbeat with the
 * latest progress. A requested cancel, or the job no longer being this worker's (its heartbeat went stale
 * and another worker took it over), calls `onStop` once. A failed heartbeat (database blip) is retried on
 * the next tick; staleness is judged over several intervals.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private progress: JsonObject | undefined;
  private stopped = false;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: AdapterStore,
    private readonly jobId: string,
    private readonly worker: string,
    private readonly intervalMs: number,
    private readonly onStop: (reason: HeartbeatStop) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.beating = this.beat();
    }, this.intervalMs);
  }

  /** Progress sent with the next heartbeat. */
  report(progress: JsonObject): void {
    this.progress = progress;
  }

  /** Stops beating; resolves once an in-flight heartbeat settled. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
  }

  private async beat(): Promise<void> {
    try {
      const { cancelRequested } = await this.store.heartbeatJob(this.jobId, this.worker, this.progress);
      if (cancelRequested) this.fire('cancel');
    } catch (error) {
      if (error instanceof JobStateError) this.fire('lost');
      else logger.warn('job heartbeat failed', { jobId: this.jobId, error });
    }
  }

  private fire(reason: HeartbeatStop): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop(reason);
  }
}
