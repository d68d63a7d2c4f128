import { type AdapterStore, openStore } from '@peer/adapter-store';
import { initBackend } from '@peer/core/backend';
import { issueApiKey } from '../../../src/auth/api-keys.js';
import { readApiEnv } from '../../../src/env.js';
import { createJobSystem, type JobSystem } from '../../../src/jobs/job-system.js';
import { setLogLevel } from '../../../src/observability/logger.js';
import { type RunningServer, startServer } from '../../../src/server.js';
import { createServices } from '../../../src/services.js';

/** The fields of the API's job view these tests read. */
export interface JobView {
  readonly id: string;
  readonly status: string;
  readonly resultVersionId: string | null;
  readonly error: unknown;
}

/** A real HTTP server (port 0) over an in-memory PGlite store, working training jobs in-process. */
export interface SeededServer {
  readonly url: string;
  readonly store: AdapterStore;
  /** Admin key of tenant `acme`, and one of another tenant. */
  readonly keys: { readonly acme: string; readonly other: string };
  /** A JSON (or NDJSON, when `body` is a string) API call with a key; throws on an error status. */
  call<T>(method: string, path: string, key: string, body?: unknown): Promise<T>;
  /** Polls `GET /v1/jobs/{id}` until the job ends; throws unless it succeeded. */
  waitForJob(key: string, jobId: string, timeoutMs?: number): Promise<JobView>;
  close(): Promise<void>;
}

/** Starts the server; nothing is seeded yet (tests seed through the HTTP API, as an operator would). */
export async function startSeededServer(): Promise<SeededServer> {
  setLogLevel('error');
  await initBackend({ backend: 'wasm' });
  const store = await openStore({ memory: true });
  const env = readApiEnv({ PORT: '0' });
  const services = createServices(env, store);
  let jobs: JobSystem | undefined;
  let server: RunningServer | undefined;
  try {
    jobs = createJobSystem({ env, store, metrics: services.metrics, work: true });
    services.jobs = jobs.queue;
    await jobs.queue.start();
    server = await startServer(env, store, { services });
  } catch (error) {
    await jobs?.close();
    await store.close();
    throw error;
  }
  const issue = async (tenantName: string) =>
    (await issueApiKey(store, { tenantName, name: 'dashboard-test', scope: 'admin' })).key;
  const keys = { acme: await issue('acme'), other: await issue('other') };
  const running = server;
  const system = jobs;
  const call = async <T>(method: string, path: string, key: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    let payload: string | undefined;
    if (typeof body === 'string') {
      headers['content-type'] = 'application/x-ndjson';
      payload = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(`${running.url}${path}`, {
      method,
      headers,
      ...(payload ? { body: payload } : {}),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
    return json;
  };
  return {
    url: running.url,
    store,
    keys,
    call,
    async waitForJob(key, jobId, timeoutMs = 90_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const job = await call<JobView>('GET', `/v1/jobs/${jobId}`, key);
        if (job.status === 'succeeded') return job;
        if (job.status === 'failed' || job.status === 'cancelled') {
          throw new Error(`job ${jobId} ended ${job.status}: ${JSON.stringify(job.error)}`);
        }
        if (Date.now() > until) throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    async close() {
      await running.stop(5_000);
      await system.close({ graceMs: 1_000 });
      await store.close();
    },
  };
}
