import {
  AdapterStoreError,
  AlreadyExistsError,
  IdempotencyConflictError,
  NotFoundError,
  StoreValidationError,
  VersionConflictError,
} from '@peer/adapter-store';
import { PeerConfigError, PeerError, PeerShapeError } from '@peer/core';
import { HTTPException } from 'hono/http-exception';
import { ApiError, jsonSafe } from './api-error.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly [detail: string]: unknown };
}

/**
 * Maps anything a handler can throw to an `ApiError`: the API's own errors pass through, the packages'
 * typed errors get their HTTP meaning (a store "not found" is 404, a config bound is 422, an optimistic
 * concurrency failure is 409), and anything else is a 500 whose details stay in the server log.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) {
    const code =
      error.status === 413 ? 'payload_too_large' : error.status === 401 ? 'unauthorized' : 'invalid_request';
    return new ApiError(error.status, code, error.message || 'request rejected', {}, {}, { cause: error });
  }
  if (error instanceof StoreValidationError || error instanceof PeerConfigError) {
    return new ApiError(422, 'invalid_field', error.message, {
      field: error.field,
      bound: error.bound,
      value: jsonSafe(error.value),
    });
  }
  if (error instanceof PeerShapeError) return new ApiError(422, 'invalid_field', error.message);
  if (error instanceof NotFoundError) {
    return new ApiError(404, 'not_found', `${error.entity} ${JSON.stringify(error.key)} does not exist`, {
      entity: error.entity,
      id: error.key,
    });
  }
  if (error instanceof AlreadyExistsError) {
    return new ApiError(409, 'conflict', `${error.entity} ${JSON.stringify(error.key)} already exists`, {
      entity: error.entity,
    });
  }
  if (error instanceof VersionConflictError || error instanceof IdempotencyConflictError) {
    return new ApiError(409, 'conflict', stripPrefix(error.message));
  }
  if (error instanceof PeerError && error.code === 'adapter_not_found') {
    return new ApiError(404, 'not_found', error.message);
  }
  if (error instanceof AdapterStoreError || error instanceof PeerError) {
    return new ApiError(500, 'internal', 'internal error', {}, {}, { cause: error });
  }
  return new ApiError(500, 'internal', 'internal error', {}, {}, { cause: error });
}

/** The response body of an `ApiError`. */
export function errorBody(error: ApiError): ErrorBody {
  return { error: { code: error.code, message: error.message, ...error.details } };
}

function stripPrefix(message: string): string {
  return message.replace(/^@peer\/adapter-store \([a-z]+\): /, '');
}
