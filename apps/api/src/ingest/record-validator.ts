import type { JsonObject } from '@peer/adapter-store';
import type { ClassifierConfig } from '@peer/core';

/** Why one NDJSON line was rejected: a reason in words and, where one field is at fault, its name. */
export interface LineRejection {
  readonly reason: string;
  readonly field?: string;
}

/** A validated record, as stored, or the reason it was rejected. */
export type RecordCheck = { readonly record: JsonObject } | { readonly rejection: LineRejection };

/** Task ids beyond this are certainly mistakes (a task is a stream segment, not a per-record id). */
const MAX_TASK = 1_000_000;

/**
 * The record check of a classifier: exactly `{"x": number[inDim], "y": class, "task"?: int}` with finite
 * numbers. Unknown fields are rejected rather than dropped: a typo (`"label"`) must not train silently on
 * nothing. With several task heads (task-incremental), `task` must name a head.
 */
export function classifierRecordCheck(config: ClassifierConfig): (value: unknown) => RecordCheck {
  const maxTask = config.taskHeads > 1 ? config.taskHeads - 1 : MAX_TASK;
  return (value): RecordCheck => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return { rejection: { reason: 'each line must be a JSON object like {"x":[...],"y":0}' } };
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key !== 'x' && key !== 'y' && key !== 'task') {
        return { rejection: { field: key, reason: `unknown field '${key}' (allowed: x, y, task)` } };
      }
    }
    const { x, y, task } = record;
    if (!Array.isArray(x)) return { rejection: { field: 'x', reason: "'x' must be an array of numbers" } };
    if (x.length !== config.inDim) {
      return {
        rejection: { field: 'x', reason: `'x' must have length ${config.inDim}, but has ${x.length}` },
      };
    }
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (typeof v !== 'number') {
        return {
          rejection: { field: `x[${i}]`, reason: `'x[${i}]' must be a number, but is a ${typeof v}` },
        };
      }
      // JSON has no NaN/Infinity literals, but 1e999 parses to Infinity.
      if (!Number.isFinite(v)) return { rejection: { field: `x[${i}]`, reason: `'x[${i}]' must be finite` } };
    }
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= config.classes) {
      return {
        rejection: { field: 'y', reason: `'y' must be an integer class in [0, ${config.classes - 1}]` },
      };
    }
    if (
      task !== undefined &&
      (typeof task !== 'number' || !Number.isInteger(task) || task < 0 || task > maxTask)
    ) {
      return { rejection: { field: 'task', reason: `'task' must be an integer in [0, ${maxTask}]` } };
    }
    return { record: task === undefined ? { x, y } : { x, y, task } };
  };
}
