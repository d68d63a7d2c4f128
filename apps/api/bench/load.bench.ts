/**
 * Load bench of the HTTP API (issue #5): autocannon against `predict` (at a fixed 200 req/s and at the
 * highest rate it sustains) and against NDJSON `ingest`, for PEER pools of N = 256² and 1024² experts
 * (d_model 256, 8 heads, top-16, d_key 128: the PEER layer bench's configuration).
 *
 *   nice -n 10 npm run bench:api [-- --sizes 256,1024 --duration 20 --json bench-results/api-load.json]
 *
 * The server is a child `peer serve` (PGlite in a temp directory, wasm backend, no in-process worker), so the
 * load generator does not share its event loop. Goal: predict p99 <= 20 ms at 200 req/s at N = 1024².
 * "200 req/s" is measured twice: paced evenly (open loop, latency from each request's due time) and with
 * autocannon's `overallRate` (each connection spends a per-second quota back to back: bursts). Predict is also
 * timed one request at a time (the service time without queueing).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PeerClient } from '../src/client/peer-client.js';
import { startChildServer, TEST_ADMIN_KEY } from '../test/support/child-server.js';
import { cannon, type LoadRow, pacedRow, sequentialRow, table, toRow } from './load-cases.js';
import { pacedLoad } from './paced-load.js';

const D_MODEL = 256;
const PREDICT_RATE = 200;
/** Records per ingest request: small requests show the per-request overhead, large ones the storage rate. */
const INGEST_RECORDS = [100, 1000];
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A seeded uniform generator (mulberry32), so every run sends the same inputs. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function vector(rand: () => number): number[] {
  return Array.from({ length: D_MODEL }, () => Math.round((rand() * 2 - 1) * 1000) / 1000);
}

async function peakRssMb(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmHWM:\s+(\d+)/.exec(status)?.[1];
  return kb ? Math.round(Number(kb) / 1024) : undefined;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '256,1024' },
      duration: { type: 'string', default: '20' },
      json: { type: 'string', default: join(repoRoot, 'bench-results/api-load.json') },
    },
  });
  const sizes = (values.sizes ?? '').split(',').map(Number);
  const duration = Number(values.duration);
  const dataDir = await mkdtemp(join(tmpdir(), 'peer-load-'));
  const server = await startChildServer(
    {
      DATA_DIR: dataDir,
      DATABASE_URL: '',
      PEER_INPROCESS_WORKER: '0',
      // The bench measures serving, not the per-key limiter.
      PEER_RATE_LIMIT_RPS: '1000000',
      PEER_MODEL_CACHE_MB: '4096',
    },
    { timeoutMs: 120_000 },
  );
  const client = new PeerClient({ url: server.url, key: TEST_ADMIN_KEY });
  const headers = { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' };
  const rows: LoadRow[] = [];
  const setup: Record<string, number>[] = [];
  const log = (line: string) => process.stderr.write(`[bench:api] ${line}\n`);
  try {
    for (const size of sizes) {
      const n = size * size;
      let t0 = performance.now();
      const model = await client.post<{ id: string }>('/v1/models', {
        name: `load-${size}`,
        kind: 'classifier',
        config: {
          inDim: D_MODEL,
          classes: 10,
          dModel: D_MODEL,
          peer: { subKeyRows: size, subKeyCols: size, heads: 8, topK: 16, dKey: 128 },
        },
      });
      const createMs = performance.now() - t0;
      const rand = random(size);
      const bodies = Array.from({ length: 16 }, () => JSON.stringify({ inputs: [vector(rand)] }));
      const predictPath = `/v1/models/${model.id}/predict`;
      const predictOnce = (i: number) =>
        client.post(predictPath, JSON.parse(bodies[i % bodies.length] ?? '{}'));
      t0 = performance.now();
      await predictOnce(0);
      const firstPredictMs = performance.now() - t0;
      setup.push({
        n_experts: n,
        create_model_ms: Math.round(createMs),
        first_predict_ms: Math.round(firstPredictMs),
      });
      log(
        `N = ${size}²: model created in ${(createMs / 1000).toFixed(1)} s, first predict (load) ${(firstPredictMs / 1000).toFixed(1)} s`,
      );

      // One request at a time: the service time without queueing (the first 100 warm the JIT and are dropped).
      const sequential: number[] = [];
      for (let i = 0; i < 600; i++) {
        const started = performance.now();
        await predictOnce(i);
        if (i >= 100) sequential.push(performance.now() - started);
      }
      rows.push(sequentialRow('predict, 1 input', n, sequential));

      log(`predict paced at ${PREDICT_RATE} req/s (open loop) for ${duration} s`);
      const paced = await pacedLoad({
        url: server.url,
        path: predictPath,
        headers,
        bodies,
        rate: PREDICT_RATE,
        durationS: duration,
      });
      rows.push(pacedRow('predict, 1 input', n, PREDICT_RATE, paced));

      const requests = bodies.map((body) => ({ method: 'POST', path: predictPath, headers, body }));
      const fixed = { connections: 10, duration };
      log(`predict with autocannon overallRate ${PREDICT_RATE} for ${duration} s`);
      const atRate = await cannon({
        url: server.url,
        ...fixed,
        overallRate: PREDICT_RATE,
        requests,
        timeout: 10,
      });
      rows.push(toRow('predict, 1 input', n, PREDICT_RATE, fixed, atRate));
      const max = { connections: 8, duration };
      log(`predict at max rate for ${duration} s`);
      const atMax = await cannon({ url: server.url, ...max, requests, timeout: 10 });
      rows.push(toRow('predict, 1 input', n, 'max', max, atMax));

      for (const records of INGEST_RECORDS) {
        const lines = Array.from({ length: records }, (_, i) =>
          JSON.stringify({ x: vector(rand), y: i % 10 }),
        );
        const ingest = { connections: 4, duration: Math.max(5, Math.round(duration / 2)) };
        log(`ingest (${records} records a request) for ${ingest.duration} s`);
        const ingested = await cannon({
          url: server.url,
          ...ingest,
          timeout: 60,
          requests: [
            {
              method: 'POST',
              path: `/v1/models/${model.id}/streams/load-${records}/records`,
              headers: { ...headers, 'content-type': 'application/x-ndjson' },
              body: `${lines.join('\n')}\n`,
            },
          ],
        });
        rows.push(toRow(`ingest, ${records} records`, n, 'max', ingest, ingested, records));
      }
    }
    const rss = await peakRssMb(server.pid);
    const report = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        node: process.version,
        loadavg_at_end: loadavg(),
      },
      server: { store: 'pglite', backend: 'wasm (1 thread)', peak_rss_mb: rss },
      config: {
        d_model: D_MODEL,
        heads: 8,
        top_k: 16,
        d_key: 128,
        predict_rate: PREDICT_RATE,
        duration_s: duration,
      },
      setup,
      rows,
    };
    await writeFile(values.json ?? '', `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`${table(rows)}\n\nserver peak RSS ${rss ?? '?'} MB; JSON: ${values.json}\n`);
  } finally {
    await server.kill('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:api: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
