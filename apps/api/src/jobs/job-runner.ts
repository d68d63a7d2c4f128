import {
  type AdapterStore,
  AlreadyExistsError,
  type BatchReceipt,
  type Job,
  JobStateError,
  type JsonObject,
  type JsonValue,
  type Version,
} from '@peer/adapter-store';
import type { Metrics } from '../observability/metrics.js';
import { commitAdapterResult, commitModelResult, promoteAlias } from './commit-result.js';
import { Heartbeat, type HeartbeatStop } from './heartbeat.js';
import { JobError, toJobError } from './job-errors.js';
import { countJob } from './job-metrics.js';
import { trainableBatches } from './stream-data.js';
import { type TrainSpec, trainSpecOf } from './train-spec.js';
import type { TrainThread } from './train-thread.js';
import { prepareTraining } from './training-input.js';

/** Settings of a {@link JobRunner}. */
export interface JobRunnerOptions {
  readonly store: AdapterStore;
  readonly thread: TrainThread;
  /** This worker's id in claims and heartbeats (unique per process). */
  readonly workerId: string;
  readonly metrics?: Metrics;
  /** Heartbeat period; several must fit in `staleAfterMs`. */
  readonly heartbeatMs?: number;
  /** A running job silent this long belongs to a dead worker and may be claimed again. */
  readonly staleAfterMs?: number;
  /** Fault injection for tests: runs right after the commit; throwing simulates the worker dying there. */
  readonly afterCommit?: (job: Job, version: Version) => Promise<void> | void;
}

/** What one attempt did. */
export type RunOutcome =
  /** The job reached a final status (succeeded, failed or cancelled) in this attempt. */
  | { readonly kind: 'finished'; readonly job: Job }
  /** Nothing to do: finished already, held by a live worker, or ended by the claim (out of attempts). */
  | { readonly kind: 'skipped'; readonly job: Job }
  /** Failed with attempts left: handed back (it becomes claimable once its heartbeat is stale). */
  | { readonly kind: 'retry'; readonly error: JobError; readonly retryAfterMs: number }
  /** The worker stopped (shutdown, lost ownership, simulated crash) without finishing the job. */
  | { readonly kind: 'abandoned'; readonly reason: string };

/** Heartbeat every 2 s and treat 15 s of silence as a dead worker: a crashed job is retried within seconds. */
export const DEFAULT_HEARTBEAT_MS = 2_000;
export const DEFAULT_STALE_AFTER_MS = 15_000;

/** Thrown by `afterCommit` hooks (wrapped) to stop the attempt as a crash would: no status, no events. */
class SimulatedCrash extends Error {}

/**
 * The store side of a training job, shared by the in-process queue and pg-boss workers: claim, load the
 * model's head and the stream, train in the thread while heartbeating (a requested cancel stops training),
 * record progress events, then commit a new version exactly once — if an earlier attempt of the job already
 * committed (it crashed before finishing), that version is the result — mark the trained batches consumed,
 * move the `promote` alias and finish the job. Failures with attempts left are handed back for a retry.
 */
export class JobRunner {
  readonly heartbeatMs: number;
  readonly staleAfterMs: number;

  constructor(private readonly options: JobRunnerOptions) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  }

  /**
   * Runs one attempt of a job. `signal` (shutdown) stops training: the job is handed back unfinished for
   * another worker, or with `onShutdown: 'fail'` (a queue no other process can resume, as on PGlite) failed
   * with `interrupted` so it never waits forever.
   */
  async run(
    jobId: string,
    options: { signal?: AbortSignal; onShutdown?: 'hand-back' | 'fail' } = {},
  ): Promise<RunOutcome> {
    const { store, workerId } = this.options;
    const job = await store.claimJob(jobId, workerId, { staleAfterMs: this.staleAfterMs });
    if (!job) return { kind: 'skipped', job: await store.getJob(jobId) };
    const spec = trainSpecOf(job.spec);
    const stop = new AbortController();
    let stopReason: HeartbeatStop | 'shutdown' | undefined;
    const halt = (reason: HeartbeatStop | 'shutdown') => {
      stopReason ??= reason;
      stop.abort();
    };
    const onShutdown = () => halt('shutdown');
    options.signal?.addEventListener('abort', onShutdown, { once: true });
    const heartbeat = new Heartbeat(store, job.id, workerId, this.heartbeatMs, halt);
    const events = new EventLog(store, job.id);
    heartbeat.start();
    try {
      const done = await store.findVersionByJob(job.modelId, job.id);
      if (done) return await this.succeed(job, spec, done, events);
      const prepared = await prepareTraining(store, job, spec);
      if (options.signal?.aborted) halt('shutdown');
      const output = await this.options.thread.run(prepared.input, {
        signal: stop.signal,
        onProgress: (p) => {
          heartbeat.report({ step: p.step, steps: p.steps, loss: p.loss });
          events.append('progress', { ...p }).catch(() => undefined);
        },
      });
      let version: Version;
      try {
        version =
          output.kind === 'train'
            ? await commitModelResult(store, job, prepared, output)
            : await commitAdapterResult(store, job, prepared, output, spec.adapter?.name ?? '');
      } catch (error) {
        // Another attempt of this job committed first (the unique job id): its version is the result.
        const raced =
          error instanceof AlreadyExistsError && (await store.findVersionByJob(job.modelId, job.id));
        if (!raced) throw error;
        version = raced;
      }
      if (this.options.afterCommit) {
        try {
          await this.options.afterCommit(job, version);
        } catch (cause) {
          throw new SimulatedCrash('simulated crash after commit', { cause });
        }
      }
      return await this.succeed(job, spec, version, events, prepared.current.batches);
    } catch (error) {
      return await this.fail(job, error, stopReason, events, options.onShutdown ?? 'hand-back');
    } finally {
      options.signal?.removeEventListener('abort', onShutdown);
      await heartbeat.stop();
    }
  }

  private async succeed(
    job: Job,
    spec: TrainSpec,
    version: Version,
    events: EventLog,
    batches?: readonly BatchReceipt[],
  ): Promise<RunOutcome> {
    const { store } = this.options;
    // A recovered attempt re-derives the trained batches from the version's offset range.
    const { ingestFrom, ingestTo } = version.lineage;
    const used =
      batches ??
      (await trainableBatches(store, spec.streamId)).filter(
        (b) =>
          ingestFrom !== null && ingestTo !== null && b.firstOffset >= ingestFrom && b.firstOffset < ingestTo,
      );
    for (const b of used) {
      if (b.status === 'acknowledged')
        await store.setBatchStatus(spec.streamId, b.idempotencyKey, 'consumed');
    }
    if (spec.promote) await promoteAlias(store, job, version.modelId, spec.promote, version.id);
    await events.flush();
    const finished = await store.finishJob(job.id, this.options.workerId, {
      status: 'succeeded',
      resultVersionId: version.id,
    });
    await events.append('metrics', version.metrics);
    await events.append('done', { versionId: version.id, metrics: version.metrics });
    await events.flush();
    this.count('succeeded');
    return { kind: 'finished', job: finished };
  }

  private async fail(
    job: Job,
    error: unknown,
    stopReason: HeartbeatStop | 'shutdown' | undefined,
    events: EventLog,
    onShutdown: 'hand-back' | 'fail',
  ): Promise<RunOutcome> {
    const { store, workerId } = this.options;
    if (error instanceof SimulatedCrash) return { kind: 'abandoned', reason: 'crash' };
    if (stopReason === 'lost' || error instanceof JobStateError) return { kind: 'abandoned', reason: 'lost' };
    if (stopReason === 'shutdown' && onShutdown === 'hand-back')
      return { kind: 'abandoned', reason: 'shutdown' };
    const jobError =
      stopReason === 'shutdown'
        ? new JobError('interrupted', 'the server stopped while the job trained; submit it again', false)
        : toJobError(error);
    await events.flush().catch(() => undefined);
    try {
      if (stopReason === 'cancel' || jobError.code === 'cancelled') {
        const finished = await store.finishJob(job.id, workerId, { status: 'cancelled' });
        await events.append('cancelled', {});
        this.count('cancelled');
        return { kind: 'finished', job: finished };
      }
      if (jobError.retryable && job.attempts < job.maxAttempts) {
        await events.append('retrying', { attempt: job.attempts, error: jobError.toJson() as JsonObject });
        return { kind: 'retry', error: jobError, retryAfterMs: this.staleAfterMs };
      }
      const body = jobError.toJson() as JsonObject;
      const finished = await store.finishJob(job.id, workerId, { status: 'failed', error: body });
      await events.append('failed', { error: body });
      this.count('failed');
      return { kind: 'finished', job: finished };
    } catch (finishError) {
      if (finishError instanceof JobStateError) return { kind: 'abandoned', reason: 'lost' };
      throw finishError;
    }
  }

  private count(status: string): void {
    countJob(this.options.metrics, status);
  }
}

/**
 * A job's event log, appended in order without making the training thread wait: appends are chained, and
 * `flush` waits for all of them (a failed append is logged by the next flush's caller, not lost silently).
 */
class EventLog {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: AdapterStore,
    private readonly jobId: string,
  ) {}

  append(type: string, data: JsonValue): Promise<void> {
    const next = this.chain.then(() => this.store.appendJobEvent(this.jobId, type, data));
    this.chain = next.catch(() => undefined);
    return next.then(() => undefined);
  }

  async flush(): Promise<void> {
    await this.chain;
  }
}
