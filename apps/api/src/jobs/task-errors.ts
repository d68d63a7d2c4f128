import { PeerConfigError } from '@peer/core';
import type { TaskErrorData } from './train-task-types.js';

/** Thrown inside the training thread when a run was cancelled between steps. */
export class TaskCancelledError extends Error {
  readonly code = 'cancelled';
  constructor() {
    super('training was cancelled');
    this.name = 'TaskCancelledError';
  }
}

/** An error as it crosses the thread boundary. */
export function taskErrorData(error: unknown): TaskErrorData {
  if (error instanceof PeerConfigError) {
    return {
      name: error.name,
      code: error.code,
      message: error.message,
      field: error.field,
      bound: error.bound,
      value: jsonValue(error.value),
    };
  }
  if (error instanceof Error) {
    const { code } = error as { code?: unknown };
    return { name: error.name, code: typeof code === 'string' ? code : 'internal', message: error.message };
  }
  return { name: 'Error', code: 'internal', message: String(error) };
}

/** The stream has nothing to learn from or nothing to measure on (fails the same way on every attempt). */
export class NoTrainingDataError extends Error {
  readonly code = 'no_training_data';
  constructor(message: string) {
    super(message);
    this.name = 'NoTrainingDataError';
  }
}

function jsonValue(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value ?? null));
  } catch {
    return String(value);
  }
}
