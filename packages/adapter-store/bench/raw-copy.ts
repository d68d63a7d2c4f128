import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { blockCopyBuffers } from '../src/drivers/copy-rows.js';
import { connectNoDelay } from '../src/drivers/no-delay-socket.js';

const CHUNK = 32 * 1024 * 1024;

/**
 * The database's own speed, for comparison: binary COPY of `bytes` in 2 MiB rows into / out of a plain
 * bytea table (same STORAGE EXTERNAL, same 32 MiB rounds) with no hashing, validation or manifest.
 */
export async function rawCopyBaseline(
  driver: string,
  target: { dataDir?: string; url?: string },
  bytes: number,
  record: (driver: string, name: string, bytes: number, ms: number) => void,
): Promise<void> {
  const block = new Uint8Array(2 * 1024 * 1024);
  for (let i = 0; i < block.length; i += 65536) crypto.getRandomValues(block.subarray(i, i + 65536));
  const rounds = Math.ceil(bytes / CHUNK);
  const perRound = CHUNK / block.length;
  const rowsOf = (r: number) =>
    Array.from({ length: perRound }, (_, i) => ({ hash: `${r}-${i}-`.padEnd(64, '0'), bytes: block }));
  const ddl =
    'create table raw (hash text primary key, byte_length bigint, data bytea); alter table raw alter column data set storage external';
  if (target.dataDir) {
    const pg = new PGlite(target.dataDir);
    await pg.exec(ddl);
    let t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      await pg.transaction(async (tx) => {
        const blob = new Blob(blockCopyBuffers(rowsOf(r)) as BlobPart[]);
        await tx.query(`copy raw from '/dev/blob' with (format binary)`, [], { blob });
      });
    }
    record(driver, 'raw COPY FROM (baseline)', rounds * CHUNK, performance.now() - t0);
    t0 = performance.now();
    let read = 0;
    for (let r = 0; r < rounds; r++) {
      // Per round, like the store: one 2 GiB blob would not fit PGlite's wasm memory.
      const out = await pg.query(
        `copy (select hash, data from raw where hash like '${r}-%') to '/dev/blob' with (format binary)`,
      );
      read += (await out.blob?.arrayBuffer())?.byteLength ?? 0;
    }
    record(driver, 'raw COPY TO (baseline)', read, performance.now() - t0);
    await pg.close();
    return;
  }
  // Same socket as the store's driver (TCP_NODELAY), so the baseline is comparable.
  const options = { max: 1, onnotice: () => {}, socket: connectNoDelay };
  const sql = postgres(target.url as string, options);
  await sql.unsafe(ddl);
  let t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    await sql.begin(async (tx) => {
      const w = await tx.unsafe('copy raw from stdin with (format binary)').writable();
      await pipeline(Readable.from(blockCopyBuffers(rowsOf(r))), w);
    });
  }
  record(driver, 'raw COPY FROM (baseline, postgres.js)', rounds * CHUNK, performance.now() - t0);
  await sql.end({ timeout: 1 });
  const reader = postgres(target.url as string, options);
  t0 = performance.now();
  let total = 0;
  const stream = await reader
    .unsafe('copy (select hash, data from raw) to stdout with (format binary)')
    .readable();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      callback();
    },
  });
  await pipeline(stream, sink);
  record(driver, 'raw COPY TO (baseline, postgres.js)', total, performance.now() - t0);
  await reader.end({ timeout: 1 });
}
