/**
 * Store throughput benchmark (issue #3): commit and load MB/s of a 256²- and a 1024²-expert layer on
 * both drivers, the time of a 64-row growth commit on a 256-row and a 1024-row pool (should not depend
 * on the pool size), and a 10k-record ingest batch. Raw binary COPY of the same bytes is measured as the
 * "database's own speed" baseline.
 *
 *   npm run bench -w @peer/adapter-store -- [--json FILE] [--sizes 256,1024] [--pools 256,1024]
 *     [--drivers pglite,postgres] [--raw-mb 128]
 *
 * PostgreSQL runs only with DATABASE_URL (a throw-away database is created and dropped). PGlite uses a
 * temporary data directory (a 2 GiB layer does not belong in wasm memory).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readEnv } from '../src/env.js';
import { type AdapterStore, openStore } from '../src/index.js';
import { createTestDatabase } from '../test/helpers/pg-database.js';
import { type LayerShape, layerBlocks, rowBytes } from './layer-source.js';
import { rawCopyBaseline } from './raw-copy.js';

const D_MODEL = 256;
const GROWTH_WIDTH = 256;
const GROWTH_ROWS = 64;
const MB = 1024 * 1024;

interface Row {
  driver: string;
  case: string;
  mb: number;
  seconds: number;
  mbPerSec: number;
}

const { values: args } = parseArgs({
  options: {
    json: { type: 'string' },
    sizes: { type: 'string', default: '256,1024' },
    drivers: { type: 'string', default: 'pglite,postgres' },
    pools: { type: 'string', default: '256,1024' },
    'raw-mb': { type: 'string', default: '128' },
  },
});
const sizes = (args.sizes ?? '')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const drivers = (args.drivers ?? '').split(',').filter(Boolean);
const pools = (args.pools ?? '')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const rawBytes = Number(args['raw-mb']) * MB;
const rows: Row[] = [];

function record(driver: string, name: string, bytes: number, ms: number): void {
  const row = { driver, case: name, mb: bytes / MB, seconds: ms / 1000, mbPerSec: bytes / MB / (ms / 1000) };
  rows.push(row);
  console.log(
    `${driver.padEnd(9)} ${name.padEnd(40)} ${row.mb.toFixed(0).padStart(6)} MB ${row.seconds.toFixed(2).padStart(8)} s ${row.mbPerSec.toFixed(1).padStart(8)} MB/s`,
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

async function commitLayer(store: AdapterStore, modelId: string, shape: LayerShape, salt: number) {
  return store.commitVersion({ modelId, parentId: null, blocks: layerBlocks(shape, 0, shape.rows, salt) });
}

async function runDriver(
  driver: string,
  store: AdapterStore,
  rawTarget: { dataDir?: string; url?: string },
): Promise<void> {
  const tenant = await store.createTenant({ name: `bench-${Date.now()}` });
  const model = (name: string) => store.createModel({ tenantId: tenant.id, name });
  if (rawBytes > 0) await rawCopyBaseline(driver, rawTarget, rawBytes, record);
  for (const n of sizes) {
    const shape = { rows: n, width: n, dModel: D_MODEL };
    const m = await model(`layer-${n}`);
    const [res, commitMs] = await timed(() => commitLayer(store, m.id, shape, n));
    record(driver, `commit ${n}² experts (d=${D_MODEL})`, res.writtenBytes, commitMs);
    const [bytes, loadMs] = await timed(async () => {
      let total = 0;
      for await (const b of store.loadBlocks(res.version.id)) total += b.bytes.byteLength;
      return total;
    });
    record(driver, `load ${n}² experts (verified)`, bytes, loadMs);
  }
  // Growth: both pools first, then alternate their 64-row growth commits (median of 3 each), so that
  // background flushing after the big base commits hits both sides alike.
  const growth = new Map<number, { modelId: string; head: string; rows: number; ms: number[] }>();
  for (const poolRows of pools) {
    const shape = { rows: poolRows, width: GROWTH_WIDTH, dModel: D_MODEL };
    const m = await model(`pool-${poolRows}`);
    const base = await commitLayer(store, m.id, shape, 7000 + poolRows);
    growth.set(poolRows, { modelId: m.id, head: base.version.id, rows: poolRows, ms: [] });
  }
  for (let rep = 0; rep < 3; rep++) {
    for (const [poolRows, g] of growth) {
      const shape = { rows: g.rows, width: GROWTH_WIDTH, dModel: D_MODEL };
      const blocks = layerBlocks(shape, g.rows, g.rows + GROWTH_ROWS, 9000 + poolRows * 10 + rep);
      const [res, ms] = await timed(() =>
        store.commitVersion({ modelId: g.modelId, parentId: g.head, blocks }),
      );
      if (res.writtenBytes !== 2 * GROWTH_ROWS * rowBytes(shape))
        throw new Error('growth wrote unexpected bytes');
      g.head = res.version.id;
      g.rows += GROWTH_ROWS;
      g.ms.push(ms);
    }
  }
  for (const [poolRows, g] of growth) {
    const sorted = [...g.ms].sort((a, b) => a - b);
    const bytes = 2 * GROWTH_ROWS * rowBytes({ rows: 0, width: GROWTH_WIDTH, dModel: D_MODEL });
    const runs = g.ms.map((ms) => ms.toFixed(0)).join('/');
    record(
      driver,
      `grow +${GROWTH_ROWS} rows, ${poolRows}-row pool (median; ${runs} ms)`,
      bytes,
      sorted[1] ?? 0,
    );
  }
  const stream = await store.createStream({ modelId: (await model('ingest')).id, name: 's' });
  const records = Array.from({ length: 10_000 }, (_, i) => ({
    id: i,
    x: [i, i / 3, 0.5],
    label: i % 10,
    text: 'lorem ipsum',
  }));
  const [receipt, ms] = await timed(() =>
    store.recordBatch({ streamId: stream.id, idempotencyKey: 'bench', records }),
  );
  record(driver, `recordBatch 10k records (${receipt.recordCount})`, JSON.stringify(records).length, ms);
}

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${cpus().length} cpus, sizes ${sizes.join(',')}, drivers ${drivers.join(',')}`,
  );
  if (drivers.includes('pglite')) {
    const dir = await mkdtemp(join(tmpdir(), 'adapter-store-bench-'));
    try {
      const store = await openStore({ dataDir: join(dir, 'pg') });
      await runDriver('pglite', store, { dataDir: join(dir, 'raw') });
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const url = readEnv().DATABASE_URL;
  if (drivers.includes('postgres') && !url) console.log('postgres  skipped: DATABASE_URL is not set');
  if (drivers.includes('postgres') && url) {
    const db = await createTestDatabase(url, 'bench');
    try {
      const store = await openStore({ url: db.url });
      await runDriver('postgres', store, { url: db.url });
      await store.close();
    } finally {
      await db.drop();
    }
  }
  if (args.json) {
    const doc = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      dModel: D_MODEL,
      rows,
    };
    await writeFile(args.json, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`wrote ${args.json}`);
  }
}

await main();
