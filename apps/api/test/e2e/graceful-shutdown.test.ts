/**
 * Graceful shutdown: SIGTERM while a large ingest is still streaming in. The in-flight request completes with
 * 202 and its records are stored; the listening socket is closed at once (new connections are refused);
 * the process exits with code 0. On PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { connect } from 'node:net';
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

const RECORDS = 20_000;
const CHUNKS = 40;
const CHUNK_DELAY_MS = 40;

/** Resolves with the error code of a fresh TCP connection attempt ('connected' if it was accepted). */
function tryConnect(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe.each(testDrivers())('SIGTERM during a large ingest (%s)', (driver) => {
  let deployment: Deployment;
  let server: ChildServer;

  beforeAll(async () => {
    deployment = await prepareDeployment(driver);
    server = await startChildServer(deployment.env);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await server?.kill('SIGKILL');
    await deployment?.cleanup();
  }, SETUP_TIMEOUT_MS);

  it(
    'finishes the in-flight request, refuses new connections, exits 0',
    async () => {
      const client = new PeerClient({ url: server.url, key: deployment.keys.write });
      const model = await client.post<{ id: string }>('/v1/models', {
        name: 'graceful',
        kind: 'classifier',
        config: SMALL_CLASSIFIER,
      });
      const text = smallRecords(RECORDS, 3);
      const lines = text.split('\n');
      const per = Math.ceil(RECORDS / CHUNKS);
      const encoder = new TextEncoder();
      let pulled = 0;
      let signalled!: () => void;
      const halfway = new Promise<void>((resolve) => {
        signalled = resolve;
      });
      // A slow upload: the server is still reading the body when SIGTERM arrives.
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (pulled === CHUNKS) {
            controller.close();
            return;
          }
          if (pulled > 0) await new Promise((r) => setTimeout(r, CHUNK_DELAY_MS));
          const chunk = lines.slice(pulled * per, (pulled + 1) * per).join('\n');
          controller.enqueue(encoder.encode(pulled === CHUNKS - 1 ? chunk : `${chunk}\n`));
          pulled += 1;
          if (pulled === 5) signalled();
        },
      });
      const upload = client.request<IngestResult>('POST', `/v1/models/${model.id}/streams/big/records`, {
        body,
        headers: { 'content-type': 'application/x-ndjson', 'idempotency-key': 'graceful-big' },
      });
      await halfway;
      server.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      expect(pulled).toBeLessThan(CHUNKS); // still uploading
      expect(server.alive()).toBe(true);
      expect(await tryConnect(server.url)).toBe('ECONNREFUSED');

      const result = await upload;
      expect(result.accepted).toBe(RECORDS);
      expect(result.rejected).toBe(0);
      expect(result.offsets).toEqual([0, RECORDS - 1]);
      const exit = await server.exited;
      expect(exit).toEqual({ code: 0, signal: null });

      const store = await deployment.openStore();
      try {
        const stream = await store.findStream(model.id, 'big');
        expect(stream?.nextOffset).toBe(RECORDS);
        const batches = await store.listBatches(stream?.id ?? '');
        expect(batches.every((b) => b.status === 'acknowledged')).toBe(true);
        expect(batches.reduce((n, b) => n + b.recordCount, 0)).toBe(RECORDS);
        const last = await store.readRecords(stream?.id ?? '', { fromOffset: RECORDS - 1, limit: 1 });
        expect(last[0]?.data).toEqual(JSON.parse(lines[RECORDS - 1] ?? ''));
      } finally {
        await store.close();
      }
    },
    LONG_TEST_MS,
  );
});
