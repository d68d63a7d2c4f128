import type { Context } from 'hono';
import type { z } from 'zod';
import { ApiError, jsonSafe } from './api-error.js';

type Issue = z.core.$ZodIssue;

/**
 * Turns the first zod issue of a rejected request part into the API's 422 body: the field path, the bound
 * it broke (from the issue, in words) and the value that was sent.
 */
export async function validationError(
  issues: readonly Issue[],
  target: string,
  c: Context,
): Promise<ApiError> {
  const issue = issues[0];
  if (!issue) return new ApiError(422, 'invalid_field', `invalid ${target}`);
  const path = [...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys' && issue.keys[0]) path.push(issue.keys[0]);
  const field = path.join('.') || target;
  const input = target === 'json' ? await c.req.json().catch(() => undefined) : undefined;
  const sent = input === undefined ? undefined : valueAt(input, path);
  return ApiError.invalidField(field, boundOf(issue), jsonSafe(sent));
}

/** The bound an issue states, phrased to follow "must be". */
export function boundOf(issue: Issue): string {
  switch (issue.code) {
    case 'too_small':
      return `${issue.origin === 'string' ? 'a string of length ' : issue.origin === 'array' ? 'an array of length ' : ''}${issue.inclusive === false ? '>' : '>='} ${issue.minimum}`;
    case 'too_big':
      return `${issue.origin === 'string' ? 'a string of length ' : issue.origin === 'array' ? 'an array of length ' : ''}${issue.inclusive === false ? '<' : '<='} ${issue.maximum}`;
    case 'invalid_type':
      return `of type ${issue.expected}`;
    case 'unrecognized_keys':
      return 'a known field (unknown fields are rejected)';
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return `a valid ${issue.format}${'pattern' in issue && issue.pattern ? ` matching ${issue.pattern}` : ''}`;
    case 'not_multiple_of':
      return `a multiple of ${issue.divisor}`;
    default:
      return issue.message;
  }
}

function valueAt(input: unknown, path: readonly string[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
