import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from './api-error.js';

/**
 * 413 for bodies over `maxBytes`, checked while the body streams (not only from Content-Length). NDJSON
 * ingest is exempt here because it enforces the same limit itself, line by line, so that it can discard
 * what it already stored when the limit hits.
 */
export function requestBodyLimit(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError(
        413,
        'payload_too_large',
        `request body exceeds ${maxBytes} bytes`,
        {
          field: 'body',
          bound: `<= ${maxBytes} bytes`,
        },
        { Connection: 'close' },
      );
    },
  });
  return async (c, next) => {
    const type = c.req.header('content-type') ?? '';
    if (/^application\/(x-ndjson|jsonl)\b/i.test(type)) return next();
    return limit(c, next);
  };
}
