import { parseArgs } from 'node:util';
import { initBackend } from '@peer/core/backend';
import { readApiEnv } from '../../env.js';
import { createJobSystem, defaultWorkerId } from '../../jobs/job-system.js';
import { logger } from '../../observability/logger.js';
import { Metrics } from '../../observability/metrics.js';
import { openApiStore } from '../../open-api-store.js';
import { CliError } from '../cli-error.js';

export const WORKER_USAGE = `worker [--id ID] [--grace SECONDS]
                                train queued jobs from DATABASE_URL until SIGTERM (graceful)`;

/**
 * `peer worker`: trains jobs from the PostgreSQL queue (pg-boss) and nothing else, so training scales out
 * over machines apart from the API replicas (which then run with PEER_INPROCESS_WORKER=0). On SIGTERM it
 * stops taking jobs; a job in progress may finish within the grace period, else it is handed back.
 */
export async function workerCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { id: { type: 'string' }, grace: { type: 'string', default: '60' } },
  });
  const graceMs = Number(values.grace) * 1000;
  if (!Number.isFinite(graceMs) || graceMs < 0)
    throw new CliError(`--grace must be a number of seconds, got ${values.grace}`);
  const env = readApiEnv();
  if (!env.DATABASE_URL) {
    throw new CliError(
      'peer worker needs DATABASE_URL (with the embedded database, `peer serve` trains in-process)',
    );
  }
  const backend = await initBackend();
  const store = await openApiStore(env);
  const workerId = values.id ?? defaultWorkerId();
  const jobs = createJobSystem({ env, store, metrics: new Metrics(), work: true, runner: { workerId } });
  await jobs.queue.start();
  process.stdout.write(
    `peer worker ${workerId} taking jobs (${jobs.queue.name}, tensors: ${backend.name})\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info('worker stopping', { signal, graceMs });
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  try {
    await jobs.close({ graceMs });
  } finally {
    await store.close();
  }
}
