// Public types of API keys, training jobs and their events (versions and aliases are in types.ts,
// streams and adapters in types-data.ts).
import type { JsonValue } from './types.js';

/** What an API key may do; the API decides what each scope allows. */
export type ApiKeyScope = 'read' | 'write' | 'admin';

/** A stored API key. The plaintext is never stored: only its sha256 and a display prefix. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly scope: ApiKeyScope;
  /** The key's first characters, for telling keys apart in listings. */
  readonly prefix: string;
  /** sha256 (lower-case hex) of the key. */
  readonly keyHash: string;
  readonly createdAt: Date;
  /** When the key last authenticated (minute resolution), or null if never. */
  readonly lastUsedAt: Date | null;
  /** Set once the key is revoked; revoked keys no longer authenticate. */
  readonly revokedAt: Date | null;
}

/** What a job does: train the model itself, or train a LoRA adapter of it. */
export type JobKind = 'train' | 'train-adapter';

/** Lifecycle of a job: queued → running → succeeded | failed | cancelled (the last three are final). */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A durable training job. */
export interface Job {
  readonly id: string;
  readonly tenantId: string;
  readonly modelId: string;
  readonly kind: JobKind;
  /** What to train (opaque to the store). */
  readonly spec: JsonValue;
  readonly status: JobStatus;
  /** Claims so far, including the current one. */
  readonly attempts: number;
  /** Claims allowed before the job is failed with `{ code: 'attempts_exhausted' }`. */
  readonly maxAttempts: number;
  /** The worker of the latest claim, or null if never claimed. */
  readonly worker: string | null;
  /** The latest progress reported by a heartbeat (`{}` until then). */
  readonly progress: JsonValue;
  /** The version the job committed, if it succeeded with one (null again if that version was deleted). */
  readonly resultVersionId: string | null;
  readonly error: JsonValue | null;
  /** A cancel was requested while running; the worker learns it from its next heartbeat. */
  readonly cancelRequested: boolean;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly heartbeatAt: Date | null;
  readonly finishedAt: Date | null;
}

/** One entry of a job's event log; `seq` is 1, 2, 3, ... per job, in append order. */
export interface JobEvent {
  readonly jobId: string;
  readonly seq: number;
  readonly type: string;
  readonly data: JsonValue;
  readonly createdAt: Date;
}

/** How a worker ends its job. */
export interface JobOutcome {
  readonly status: 'succeeded' | 'failed' | 'cancelled';
  /** The version the job committed (only with `succeeded`). */
  readonly resultVersionId?: string;
  readonly error?: JsonValue;
}
