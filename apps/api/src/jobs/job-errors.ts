import { AdapterStoreError, StoreValidationError, VersionConflictError } from '@peer/adapter-store';
import { PeerConfigError, PeerError, PeerShapeError } from '@peer/core';
import type { TaskErrorData } from './train-task-types.js';

/** Stable codes of job failures, as they appear in a failed job's `error.code` and its `failed` event. */
export type JobErrorCode =
  | 'cancelled'
  | 'interrupted'
  | 'no_training_data'
  | 'invalid_config'
  | 'thread_crashed'
  | 'training_failed'
  | 'store_failed'
  | 'version_conflict'
  | 'internal';

/**
 * A failure of one job attempt. `retryable` decides whether the attempt is handed back for another try
 * (bounded by the job's `maxAttempts`) or the job fails at once: bad data or config fail the same way every
 * time, a crashed thread or a head that moved meanwhile may not.
 */
export class JobError extends Error {
  constructor(
    readonly code: JobErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JobError';
  }

  /** The error as stored on the job and sent in its `failed` event. */
  toJson(): { code: string; message: string; [detail: string]: unknown } {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/** The runner-side error for a failure reported by the training thread. */
export function jobErrorFromTask(data: TaskErrorData): JobError {
  if (data.code === 'cancelled') return new JobError('cancelled', data.message, false);
  if (data.code === 'no_training_data') return new JobError('no_training_data', data.message, false);
  if (data.code === 'invalid_config' || data.code === 'shape_mismatch' || data.code === 'nothing_to_train') {
    const details =
      data.field === undefined ? {} : { field: data.field, bound: data.bound, value: data.value };
    return new JobError('invalid_config', data.message, false, details);
  }
  return new JobError('training_failed', data.message, true, { cause: data.code });
}

/** Any error of an attempt as a `JobError` (store and core errors classified by whether a retry can help). */
export function toJobError(error: unknown): JobError {
  if (error instanceof JobError) return error;
  if (error instanceof VersionConflictError) {
    return new JobError(
      'version_conflict',
      'the model changed while the job trained',
      true,
      {},
      { cause: error },
    );
  }
  if (
    error instanceof StoreValidationError ||
    error instanceof PeerConfigError ||
    error instanceof PeerShapeError
  ) {
    return new JobError('invalid_config', error.message, false, {}, { cause: error });
  }
  if (error instanceof AdapterStoreError)
    return new JobError('store_failed', error.message, true, {}, { cause: error });
  if (error instanceof PeerError)
    return new JobError('training_failed', error.message, true, {}, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new JobError('internal', message, true, {}, { cause: error });
}
