/** Which driver a store (and so an error) came from; part of every message prefix. */
export type DriverName = 'pglite' | 'postgres';

/**
 * Base class of every error thrown by @peer/adapter-store. `code` is stable for programs (the API maps it
 * to HTTP statuses), `message` is for people and starts with `@peer/adapter-store (<driver>):`.
 */
export class AdapterStoreError extends Error {
  readonly code: string;
  readonly driver: DriverName;

  constructor(driver: DriverName, code: string, message: string, options?: { cause?: unknown }) {
    super(`@peer/adapter-store (${driver}): ${message}`, options);
    this.name = new.target.name;
    this.code = code;
    this.driver = driver;
  }
}

/** An argument is malformed (bad name, bytes not matching dtype × shape, ...); nothing was written. */
export class StoreValidationError extends AdapterStoreError {
  readonly field: string;
  readonly bound: string;
  readonly value: unknown;

  constructor(
    driver: DriverName,
    field: string,
    bound: string,
    value: unknown,
    options?: { cause?: unknown },
  ) {
    super(driver, 'invalid_input', `'${field}' must be ${bound}, but got ${formatValue(value)}`, options);
    this.field = field;
    this.bound = bound;
    this.value = value;
  }
}

/** A referenced entity (tenant, model, version, alias, stream, ...) does not exist. */
export class NotFoundError extends AdapterStoreError {
  readonly entity: string;
  readonly key: string;

  constructor(driver: DriverName, entity: string, key: string, options?: { cause?: unknown }) {
    super(driver, 'not_found', `${entity} ${formatValue(key)} does not exist`, options);
    this.entity = entity;
    this.key = key;
  }
}

/**
 * A unique key is taken: a name (tenant, model, adapter, alias, stream, regularization method of a
 * version), an API key hash, or the job of a version (a job commits at most once).
 */
export class AlreadyExistsError extends AdapterStoreError {
  readonly entity: string;
  readonly key: string;

  constructor(driver: DriverName, entity: string, key: string, options?: { cause?: unknown }) {
    super(driver, 'already_exists', `${entity} ${formatValue(key)} already exists`, options);
    this.entity = entity;
    this.key = key;
  }
}

/**
 * Optimistic-concurrency failure: the line's head (or an alias) is no longer what the caller saw.
 * Never retried silently — the caller must rebase its work on `actualId`.
 */
export class VersionConflictError extends AdapterStoreError {
  readonly modelId: string;
  readonly pointer: string;
  readonly expectedId: string | null;
  readonly actualId: string | null;

  constructor(
    driver: DriverName,
    modelId: string,
    pointer: string,
    expectedId: string | null,
    actualId: string | null,
    options?: { cause?: unknown },
  ) {
    super(
      driver,
      'version_conflict',
      `${pointer} of model ${modelId} is ${actualId ?? 'empty'}, not the expected ${expectedId ?? 'empty'}: ` +
        'another writer committed first; rebase on the current head and retry',
      options,
    );
    this.modelId = modelId;
    this.pointer = pointer;
    this.expectedId = expectedId;
    this.actualId = actualId;
  }
}

/** An idempotency key was replayed with a different payload than the one first acknowledged. */
export class IdempotencyConflictError extends AdapterStoreError {
  readonly streamId: string;
  readonly idempotencyKey: string;

  constructor(driver: DriverName, streamId: string, idempotencyKey: string) {
    super(
      driver,
      'idempotency_conflict',
      `idempotency key ${formatValue(idempotencyKey)} of stream ${streamId} was first used with a different payload`,
    );
    this.streamId = streamId;
    this.idempotencyKey = idempotencyKey;
  }
}

/**
 * A job cannot make the requested transition: it is finished (a final state never changes again), not
 * running, or owned by another worker (its stale claim was taken over). The worker must stop working on it.
 */
export class JobStateError extends AdapterStoreError {
  readonly jobId: string;
  readonly status: string;
  /** The job's current owner (null if never claimed). */
  readonly worker: string | null;

  constructor(driver: DriverName, operation: string, jobId: string, status: string, worker: string | null) {
    super(
      driver,
      'job_state',
      `${operation} refused: job ${jobId} is ${status}${worker === null ? '' : ` (worker ${formatValue(worker)})`}`,
    );
    this.jobId = jobId;
    this.status = status;
    this.worker = worker;
  }
}

/** Stored bytes do not match their hash or declared size: the data is corrupt and was not returned. */
export class BlockIntegrityError extends AdapterStoreError {
  readonly blockName: string;
  readonly hash: string;
  readonly reason: 'hash_mismatch' | 'length_mismatch' | 'missing' | 'manifest_mismatch';

  constructor(
    driver: DriverName,
    blockName: string,
    hash: string,
    reason: BlockIntegrityError['reason'],
    detail = '',
  ) {
    super(
      driver,
      'block_integrity',
      `block ${formatValue(blockName)} (sha256 ${hash}) failed verification: ${reason}${detail ? ` (${detail})` : ''}`,
    );
    this.blockName = blockName;
    this.hash = hash;
    this.reason = reason;
  }
}

/**
 * The database failed in a way the store does not map to a more specific error (see `cause`).
 * `sqlState` is PostgreSQL's error code when there is one; `40P01` (deadlock) and `40001`
 * (serialization failure) mean the whole operation rolled back and may simply be retried.
 */
export class StoreDatabaseError extends AdapterStoreError {
  readonly operation: string;
  readonly sqlState: string | undefined;

  constructor(driver: DriverName, operation: string, cause: unknown, sqlState?: string) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(driver, 'database', `${operation} failed: ${detail}`, { cause });
    this.operation = operation;
    this.sqlState = sqlState;
  }
}

function formatValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  try {
    const json = JSON.stringify(value);
    return json.length > 120 ? `${json.slice(0, 117)}...` : json;
  } catch {
    return String(value);
  }
}
