/**
 * In-process predict latency: 200 sequential single-input `POST /v1/models/{id}/predict` requests through
 * `app.request()` (auth, validation, version resolution, cached model, JSON), after a warm-up; prints the
 * median and p99 per configuration. No HTTP socket: this isolates the serving path from the network stack
 * (the socket-level load bench is `bench/load.bench.ts`).
 *
 *   npx tsx apps/api/bench/predict-latency.ts [--sizes 4,256] [--requests 200] [--explain]
 */
import { parseArgs } from 'node:util';
import { openStore } from '@peer/adapter-store';
import { initBackend } from '@peer/core/backend';
import { createApp } from '../src/app.js';
import { issueApiKey } from '../src/auth/api-keys.js';
import { readApiEnv } from '../src/env.js';
import { setLogLevel } from '../src/observability/logger.js';
import { createServices } from '../src/services.js';

/** SMALL_CLASSIFIER of the tests at n = 4; the PEER paper's layer shape (d 256, h 8, k 16, d_key 128) above. */
function config(n: number) {
  if (n <= 4) {
    return {
      inDim: 8,
      classes: 3,
      dModel: 16,
      peer: { heads: 2, topK: 2, dKey: 8, subKeyRows: n, subKeyCols: n, capacityRows: 4 * n },
    };
  }
  return {
    inDim: 256,
    classes: 10,
    dModel: 256,
    peer: { heads: 8, topK: 16, dKey: 128, subKeyRows: n, subKeyCols: n, capacityRows: n },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '4,256' },
      requests: { type: 'string', default: '200' },
      explain: { type: 'boolean', default: false },
    },
  });
  setLogLevel('error');
  const backend = await initBackend({ backend: 'wasm' });
  const store = await openStore({ memory: true });
  const services = createServices(readApiEnv({ PEER_RATE_LIMIT_RPS: '1000000' }), store);
  const app = createApp(services);
  const { key } = await issueApiKey(store, { tenantName: 'bench', name: 'bench', scope: 'admin' });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const count = Number(values.requests);
  process.stdout.write(
    `backend ${backend.name}${backend.simd ? ' simd' : ''}, ${backend.threads} thread(s)\n`,
  );
  for (const n of (values.sizes ?? '').split(',').map(Number)) {
    const cfg = config(n);
    let started = performance.now();
    const created = await app.request('/v1/models', {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: `bench-${n}`, kind: 'classifier', config: cfg }),
    });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);
    const { id } = (await created.json()) as { id: string };
    const createMs = performance.now() - started;
    const body = (i: number) =>
      JSON.stringify({
        inputs: [Array.from({ length: cfg.inDim }, (_, j) => Math.sin(i * 31 + j)) as number[]],
        explain: values.explain,
      });
    const call = async (i: number) => {
      const res = await app.request(`/v1/models/${id}/predict`, { method: 'POST', headers, body: body(i) });
      if (res.status !== 200) throw new Error(`predict: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    started = performance.now();
    await call(0); // loads the model into the cache
    const loadMs = performance.now() - started;
    for (let i = 1; i <= 20; i++) await call(i);
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await call(1000 + i);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    process.stdout.write(
      `N = ${n}² (${n * n} experts, d ${cfg.dModel}, h ${cfg.peer.heads}, k ${cfg.peer.topK}): ` +
        `median ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms ` +
        `over ${count} single-input requests (create ${createMs.toFixed(0)} ms, first load ${loadMs.toFixed(0)} ms)\n`,
    );
  }
  await services.serving.close();
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
