import { type Job, NotFoundError } from '@peer/adapter-store';
import type { Context } from 'hono';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';

/** The caller's job with this id; another tenant's job is reported exactly like a missing one (404). */
export async function ownedJob(c: Context<AppEnv>, id: string): Promise<Job> {
  const job = await c
    .get('services')
    .store.getJob(id)
    .catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
  if (!job || job.tenantId !== c.get('principal').tenantId) throw ApiError.notFound('job', id);
  return job;
}
