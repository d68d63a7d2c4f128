/** Machine-readable error codes of the API; clients switch on these, never on messages. */
export type ApiErrorCode =
  | 'invalid_request'
  | 'invalid_field'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'queue_full'
  | 'unavailable'
  | 'internal';

/** Optional structure of an error body: which field, what bound it broke, what value it had. */
export interface ApiErrorDetails {
  readonly field?: string;
  readonly bound?: string;
  readonly value?: unknown;
  /** Anything else a client can act on (e.g. `retryAfterSeconds`, per-line errors). */
  readonly [extra: string]: unknown;
}

/**
 * The one error type route handlers throw. `app.onError` renders it as
 * `{"error":{"code","message","field","bound","value",...}}` with `status`, plus `headers` (Retry-After).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details: ApiErrorDetails = {},
    readonly headers: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }

  /** A field broke a bound: 422 naming the field, the bound and the value. */
  static invalidField(field: string, bound: string, value: unknown): ApiError {
    return new ApiError(422, 'invalid_field', `'${field}' must be ${bound}, but got ${show(value)}`, {
      field,
      bound,
      value: jsonSafe(value),
    });
  }

  static notFound(entity: string, id: string): ApiError {
    return new ApiError(404, 'not_found', `${entity} ${show(id)} does not exist`, { entity, id });
  }
}

/** A short printable form of a value for messages (long strings and arrays are cut). */
export function show(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return typeof value;
}

/** The value as it can appear in a JSON body (NaN/Infinity become strings, big values are summarised). */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.length > 200) return `${value.slice(0, 197)}...`;
  if (Array.isArray(value)) return value.length > 16 ? `array(${value.length})` : value.map(jsonSafe);
  if (value && typeof value === 'object') return show(value);
  return value;
}
