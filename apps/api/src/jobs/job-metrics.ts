import type { Metrics } from '../observability/metrics.js';

/**
 * Counts a job reaching a status in `peer_jobs_total{status}`: `queued` when created, then its final status
 * (`succeeded`, `failed`, `cancelled`) in the process that ended it.
 */
export function countJob(metrics: Metrics | undefined, status: string): void {
  metrics?.inc(
    'peer_jobs_total',
    'Training jobs by status reached (queued at creation, then the final one)',
    {
      status,
    },
  );
}
