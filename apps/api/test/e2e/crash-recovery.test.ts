/**
 * Crash: SIGKILL `peer serve` while many ingests are in flight; after a restart every ingest that was answered
 * `202` is stored: replaying its key returns the same offsets without storing anything, and (read back from the
 * store itself at the end) its records are exactly the ones sent, in a batch still marked acknowledged.
 * Several rounds on one deployment, on PGlite (a data directory) and on PostgreSQL when DATABASE_URL is set.
 */
import type { AdapterStore } from '@peer/adapter-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerClient } from '../../src/client/peer-client.js';
import type { IngestResult } from '../../src/ingest/ingest-stream.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import {
  type Deployment,
  LONG_TEST_MS,
  prepareDeployment,
  SETUP_TIMEOUT_MS,
  testDrivers,
} from '../support/deployment.js';
import { SMALL_CLASSIFIER, smallRecords } from '../support/test-app.js';

const ROUNDS = 3;
const WORKERS = 6;
const RECORDS_PER_INGEST = 40;

/** One acknowledged ingest: what was sent and what the 202 said. */
interface Acked {
  readonly key: string;
  readonly body: string;
  readonly result: IngestResult;
}

/** A tiny seeded generator (the kill moment is also timing-dependent; the seed makes the plan reproducible). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(testDrivers())('SIGKILL during ingest (%s)', (driver) => {
  let deployment: Deployment;
  let server: ChildServer | undefined;
  let modelId: string;
  const acked: Acked[] = [];
  const ingestPath = () => `/v1/models/${modelId}/streams/crash/records`;

  beforeAll(async () => {
    deployment = await prepareDeployment(driver);
    server = await startChildServer(deployment.env);
    const client = new PeerClient({ url: server.url, key: deployment.keys.write });
    const model = await client.post<{ id: string }>('/v1/models', {
      name: 'crash',
      kind: 'classifier',
      config: SMALL_CLASSIFIER,
    });
    modelId = model.id;
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await server?.kill('SIGKILL');
    await deployment?.cleanup();
  }, SETUP_TIMEOUT_MS);

  it(
    `keeps every 202-acknowledged record over ${ROUNDS} kill/restart rounds`,
    async () => {
      const random = lcg(driver === 'pglite' ? 7 : 11);
      for (let round = 0; round < ROUNDS; round++) {
        if (!server?.alive()) server = await startChildServer(deployment.env);
        const client = new PeerClient({ url: server.url, key: deployment.keys.write });
        // Everything acknowledged before this restart must still be there: replays store nothing new.
        for (const a of acked) {
          const replay = await client.request<IngestResult>('POST', ingestPath(), {
            body: a.body,
            headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': a.key },
          });
          expect(replay.replayed, a.key).toBe(true);
          expect(replay.offsets, a.key).toEqual(a.result.offsets);
        }
        const killAfterMs = 300 + Math.floor(random() * 1200);
        let stop = false;
        let sent = 0;
        const worker = async (w: number) => {
          for (let i = 0; !stop; i++) {
            const key = `r${round}-w${w}-${i}`;
            const body = smallRecords(RECORDS_PER_INGEST, round * 100_000 + w * 1000 + i + 1);
            sent += 1;
            const response = await client
              .send('POST', ingestPath(), {
                body,
                headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': key },
              })
              .catch(() => undefined);
            if (!response) return; // the server died under this request: it was not acknowledged
            const text = await response.text().catch(() => undefined);
            if (response.status === 202 && text !== undefined) {
              acked.push({ key, body, result: JSON.parse(text) as IngestResult });
            }
          }
        };
        const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
        await new Promise((r) => setTimeout(r, killAfterMs));
        const exit = await server.kill('SIGKILL');
        stop = true;
        await Promise.all(workers);
        expect(exit.signal).toBe('SIGKILL');
        expect(sent).toBeGreaterThan(0);
      }
      expect(acked.length).toBeGreaterThan(ROUNDS);

      // A last restart, then read every acknowledged batch back from the store itself.
      server = await startChildServer(deployment.env);
      const client = new PeerClient({ url: server.url, key: deployment.keys.write });
      const lastRound = acked.filter((a) => a.key.startsWith(`r${ROUNDS - 1}-`));
      for (const a of lastRound) {
        const replay = await client.request<IngestResult>('POST', ingestPath(), {
          body: a.body,
          headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': a.key },
        });
        expect(replay.replayed, a.key).toBe(true);
      }
      const exit = await server.kill('SIGTERM');
      expect(exit.code).toBe(0);
      const store: AdapterStore = await deployment.openStore();
      try {
        const stream = await store.findStream(modelId, 'crash');
        expect(stream).toBeDefined();
        const streamId = stream?.id ?? '';
        for (const a of acked) {
          const { receipt, records } = await store.readBatch(streamId, `${a.key}:0`);
          expect(receipt.status, a.key).toBe('acknowledged');
          expect(receipt.firstOffset).toBe(a.result.offsets?.[0]);
          const sentRecords = a.body
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as unknown);
          expect(records.map((r) => r.data)).toEqual(sentRecords);
          expect(records.map((r) => r.offset)).toEqual(
            sentRecords.map((_, i) => (a.result.offsets?.[0] ?? 0) + i),
          );
        }
      } finally {
        await store.close();
      }
    },
    LONG_TEST_MS,
  );
});
