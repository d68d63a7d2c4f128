/**
 * The bad-input matrix over real HTTP against a child `peer serve`: malformed NDJSON, wrong vector lengths,
 * NaN/Infinity, strings for numbers, a 10 MB line, invalid UTF-8, unknown fields, oversized bodies, missing /
 * invalid / under-scoped keys, another tenant's ids, SQL metacharacters in names. Each gets the right 4xx (or
 * a 202 listing the rejected lines), nothing is stored for what was rejected, and after every case `/healthz`
 * answers and the process is still running. On PGlite, and on PostgreSQL when DATABASE_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import {
  type Deployment,
  LONG_TEST_MS,
  prepareDeployment,
  SETUP_TIMEOUT_MS,
  testDrivers,
} from '../support/deployment.js';
import { chunksOf, rawRequest } from '../support/raw-http.js';
import { SMALL_CLASSIFIER, smallRecords } from '../support/test-app.js';

/** Small enough that an oversized body is cheap to send, large enough for a 10 MB line to reach the line check. */
const MAX_BODY = 12 * 1024 * 1024;
const MAX_PREDICT = 64;
const GOOD = JSON.stringify({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: 1 });
const ndjson = { 'content-type': 'application/x-ndjson' };

describe.each(testDrivers())('bad input over HTTP (%s)', (driver) => {
  let deployment: Deployment;
  let server: ChildServer;
  let modelId: string;
  /** Ingest keys whose requests were refused as a whole: none of their batches may stay acknowledged. */
  const refusedKeys: string[] = [];

  const call = (
    method: string,
    path: string,
    o: { key?: string; json?: unknown; body?: BodyInit; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    let body = o.body;
    if (o.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(o.json);
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers };
    if (body !== undefined) init.body = body;
    if (body instanceof ReadableStream) init.duplex = 'half';
    return fetch(`${server.url}${path}`, init);
  };
  const ingest = (stream: string, body: BodyInit, headers: Record<string, string> = {}) =>
    call('POST', `/v1/models/${modelId}/streams/${stream}/records`, {
      key: deployment.keys.write,
      body,
      headers: { ...ndjson, ...headers },
    });
  const records = async (stream: string): Promise<number> => {
    const res = await call('GET', `/v1/models/${modelId}/streams/${stream}`, { key: deployment.keys.read });
    return res.status === 200 ? ((await res.json()) as { records: number }).records : 0;
  };
  const errorOf = async (res: Response) => ((await res.json()) as { error: Record<string, unknown> }).error;

  beforeAll(async () => {
    deployment = await prepareDeployment(driver, {
      PEER_MAX_BODY_BYTES: String(MAX_BODY),
      PEER_MAX_PREDICT_BATCH: String(MAX_PREDICT),
    });
    server = await startChildServer(deployment.env);
    const res = await call('POST', '/v1/models', {
      key: deployment.keys.write,
      json: { name: 'matrix', kind: 'classifier', config: SMALL_CLASSIFIER },
    });
    expect(res.status).toBe(201);
    modelId = ((await res.json()) as { id: string }).id;
  }, SETUP_TIMEOUT_MS);

  afterEach(async () => {
    expect(server.alive(), server.output()).toBe(true);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await server?.kill('SIGKILL');
    await deployment?.cleanup();
  }, SETUP_TIMEOUT_MS);

  it('rejects bad NDJSON lines one by one and stores only the good ones', async () => {
    const lines = [
      GOOD,
      '{"x":[1,2,3],"y":0}', // wrong vector length
      '{"x":[1,2,3,4,5,6,7,"8"],"y":0}', // a string for a number
      '{"x":[1,2,3,4,5,6,7,8],"y":"1"}', // a string for the class
      '{"x":[1,2,3,4,5,6,7,NaN],"y":0}', // NaN is not JSON
      '{"x":[1,2,3,4,5,6,7,1e999],"y":0}', // parses to Infinity
      '{"x":[1,2,3,4,5,6,7,-Infinity],"y":0}', // not JSON either
      '{"x":[1,2,3,4,5,6,7,8],"y":0,"label":1}', // unknown field
      '{"x":[1,2,3,4,5,6,7,8],', // malformed (truncated)
      '[1,2,3]', // not an object
      GOOD,
    ];
    const text = `${lines.join('\n')}\n`;
    const bytes = new TextEncoder().encode(text);
    // Line 12: invalid UTF-8 (0xC3 0x28 is an invalid two-byte sequence).
    const body = new Uint8Array([
      ...bytes,
      ...new TextEncoder().encode('{"x":"'),
      0xc3,
      0x28,
      0x22,
      0x7d,
      0x0a,
    ]);
    const res = await ingest('lines', body, { 'idempotency-key': 'lines-1' });
    expect(res.status).toBe(202);
    const result = (await res.json()) as {
      accepted: number;
      rejected: number;
      errors: { line: number; field?: string; reason: string }[];
    };
    expect(result.accepted).toBe(2);
    expect(result.rejected).toBe(10);
    expect(result.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 12]);
    expect(result.errors[0]?.field).toBe('x');
    expect(result.errors[1]?.field).toBe('x[7]');
    expect(result.errors[2]?.field).toBe('y');
    expect(result.errors[6]?.field).toBe('label');
    expect(result.errors[9]?.reason).toMatch(/UTF-8/);
    expect(await records('lines')).toBe(2);
  });

  it('skips a 10 MB line without buffering it and keeps the lines around it', async () => {
    const huge = `{"x":[${'1,'.repeat(5_000_000)}1],"y":0}`;
    expect(huge.length).toBeGreaterThan(10_000_000);
    const res = await ingest('huge-line', `${GOOD}\n${huge}\n${GOOD}\n`);
    expect(res.status).toBe(202);
    const result = (await res.json()) as {
      accepted: number;
      rejected: number;
      errors: { line: number; reason: string }[];
    };
    expect(result).toMatchObject({ accepted: 2, rejected: 1 });
    expect(result.errors[0]).toMatchObject({ line: 2 });
    expect(result.errors[0]?.reason).toMatch(/longer than the limit/);
    expect(await records('huge-line')).toBe(2);
  });

  it('answers 413 for a body over the limit, declared or streamed, and acknowledges nothing of it', async () => {
    const big = new TextEncoder().encode(smallRecords(Math.ceil((MAX_BODY * 1.1) / 70), 5));
    expect(big.length).toBeGreaterThan(MAX_BODY);
    const url = `${server.url}/v1/models/${modelId}/streams/oversize/records`;
    const headers = (key: string) => ({
      authorization: `Bearer ${deployment.keys.write}`,
      ...ndjson,
      'idempotency-key': key,
    });
    refusedKeys.push('declared-too-big', 'streamed-too-big');
    const declared = await rawRequest(url, {
      method: 'POST',
      headers: { ...headers('declared-too-big'), 'content-length': String(big.length) },
      chunks: chunksOf(big, 256 * 1024),
      headersFirst: 2000,
    });
    // Refused from the Content-Length, before any byte of the body is read.
    expect('status' in declared && declared.status, JSON.stringify(declared).slice(0, 300)).toBe(413);
    if ('status' in declared)
      expect(JSON.parse(declared.body).error).toMatchObject({ code: 'payload_too_large', field: 'body' });

    // Chunked, no Content-Length: the limit hits while streaming, after some batches were written.
    const streamed = await rawRequest(url, {
      method: 'POST',
      headers: { ...headers('streamed-too-big'), 'transfer-encoding': 'chunked' },
      chunks: chunksOf(big, 256 * 1024),
    });
    // The server answers 413 as soon as the limit is crossed; a client still writing may see the reset instead.
    if ('status' in streamed) {
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.body).error).toMatchObject({ code: 'payload_too_large' });
    } else {
      expect(streamed.error).toMatch(/ECONNRESET|EPIPE|socket hang up/);
    }
    expect(await records('oversize')).toBeLessThanOrEqual(Math.ceil(big.length / 70));
  });

  it('answers 415 for a wrong content type and 422 for a bad idempotency key', async () => {
    const wrongType = await call('POST', `/v1/models/${modelId}/streams/types/records`, {
      key: deployment.keys.write,
      json: { x: [1], y: 0 },
    });
    expect(wrongType.status).toBe(415);
    const badKey = await ingest('types', `${GOOD}\n`, {
      'idempotency-key': "k'; drop table ingest_batches; --",
    });
    expect(badKey.status).toBe(422);
    expect(await errorOf(badKey)).toMatchObject({ code: 'invalid_field', field: 'idempotency-key' });
    expect(await records('types')).toBe(0);
  });

  it('answers 401 without a valid key and 403 for a key without the scope', async () => {
    const none = await call('GET', '/v1/models');
    expect(none.status).toBe(401);
    const malformed = await call('GET', '/v1/models', { key: 'not-a-key' });
    expect(malformed.status).toBe(401);
    const unknown = await call('GET', '/v1/models', { key: `peer_${'A'.repeat(43)}` });
    expect(unknown.status).toBe(401);
    expect(await errorOf(unknown)).toMatchObject({ code: 'unauthorized' });
    const wrongScheme = await fetch(`${server.url}/v1/models`, {
      headers: { authorization: `Basic ${deployment.keys.read}` },
    });
    expect(wrongScheme.status).toBe(401);
    const readCreates = await call('POST', '/v1/models', {
      key: deployment.keys.read,
      json: { name: 'nope', kind: 'classifier', config: SMALL_CLASSIFIER },
    });
    expect(readCreates.status).toBe(403);
    expect(await errorOf(readCreates)).toMatchObject({
      code: 'forbidden',
      required: 'write',
      granted: 'read',
    });
    const readIngests = await call('POST', `/v1/models/${modelId}/streams/scoped/records`, {
      key: deployment.keys.read,
      body: `${GOOD}\n`,
      headers: ndjson,
    });
    expect(readIngests.status).toBe(403);
    expect(await records('scoped')).toBe(0);
  });

  it("answers 404 for another tenant's ids, exactly as for ids that do not exist", async () => {
    const other = deployment.keys.otherTenant;
    const foreign = await call('GET', `/v1/models/${modelId}`, { key: other });
    const missing = await call('GET', `/v1/models/${randomUUID()}`, { key: other });
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect((await errorOf(foreign)).code).toBe((await errorOf(missing)).code);
    const foreignIngest = await call('POST', `/v1/models/${modelId}/streams/foreign/records`, {
      key: other,
      body: `${GOOD}\n`,
      headers: ndjson,
    });
    expect(foreignIngest.status).toBe(404);
    expect((await call('GET', `/v1/models/${modelId}/streams`, { key: other })).status).toBe(404);
    const listed = (await (await call('GET', '/v1/models', { key: other })).json()) as { models: unknown[] };
    expect(listed.models).toEqual([]);
    expect(await records('foreign')).toBe(0);
  });

  it('rejects SQL metacharacters in names and ids with 422 and leaves the data intact', async () => {
    const evil = [
      "x'); drop table models; --",
      'a"b',
      'a;b',
      "' or '1'='1",
      'name with spaces',
      '../etc/passwd',
    ];
    for (const name of evil) {
      const res = await call('POST', '/v1/models', {
        key: deployment.keys.write,
        json: { name, kind: 'classifier', config: SMALL_CLASSIFIER },
      });
      expect(res.status, name).toBe(422);
      expect(await errorOf(res), name).toMatchObject({ code: 'invalid_field', field: 'name' });
      const stream = await ingest(encodeURIComponent(name), `${GOOD}\n`);
      expect([404, 422], name).toContain(stream.status);
    }
    const badId = await call('GET', `/v1/models/${encodeURIComponent("1' or '1'='1")}`, {
      key: deployment.keys.read,
    });
    expect(badId.status).toBe(422);
    const listed = (await (await call('GET', '/v1/models', { key: deployment.keys.read })).json()) as {
      models: { name: string }[];
    };
    expect(listed.models.map((m) => m.name)).toEqual(['matrix']);
  });

  it('rejects unknown fields, malformed JSON and out-of-range configs in a create body', async () => {
    const unknownField = await call('POST', '/v1/models', {
      key: deployment.keys.write,
      json: { name: 'extra', kind: 'classifier', config: SMALL_CLASSIFIER, colour: 'red' },
    });
    expect(unknownField.status).toBe(422);
    expect(await errorOf(unknownField)).toMatchObject({ field: 'colour' });
    const malformed = await call('POST', '/v1/models', {
      key: deployment.keys.write,
      body: '{"name": "broken",',
      headers: { 'content-type': 'application/json' },
    });
    expect([400, 422]).toContain(malformed.status);
    const badConfig = await call('POST', '/v1/models', {
      key: deployment.keys.write,
      json: { name: 'bad-config', kind: 'classifier', config: { ...SMALL_CLASSIFIER, inDim: -1 } },
    });
    expect(badConfig.status).toBe(422);
    expect(await errorOf(badConfig)).toMatchObject({ field: 'config.inDim' });
    const nanConfig = await call('POST', '/v1/models', {
      key: deployment.keys.write,
      body: '{"name":"nan","kind":"classifier","config":{"inDim":NaN,"classes":2}}',
      headers: { 'content-type': 'application/json' },
    });
    expect([400, 422]).toContain(nanConfig.status);
    const listed = (await (await call('GET', '/v1/models', { key: deployment.keys.read })).json()) as {
      models: { name: string }[];
    };
    expect(listed.models.map((m) => m.name)).toEqual(['matrix']);
  });

  it('validates predict and job requests: sizes, types, unknown fields, oversized batches, tenancy', async () => {
    const predict = (json: unknown, key = deployment.keys.read) =>
      call('POST', `/v1/models/${modelId}/predict`, { key, json });
    const row = [1, 2, 3, 4, 5, 6, 7, 8];
    expect((await predict({ inputs: [row] })).status).toBe(200);
    const cases: [string, unknown, string][] = [
      ['wrong vector length', { inputs: [[1, 2, 3]] }, 'inputs'],
      ['a string for a number', { inputs: [[1, 2, 3, 4, 5, 6, 7, '8']] }, 'inputs'],
      ['an unknown field', { inputs: [row], temperature: 2 }, 'temperature'],
      ['too many inputs', { inputs: Array.from({ length: MAX_PREDICT + 1 }, () => row) }, 'inputs'],
      ['a bad alias name', { inputs: [row], alias: "x'; drop table aliases; --" }, 'alias'],
    ];
    for (const [what, body, field] of cases) {
      const res = await predict(body);
      expect(res.status, what).toBe(422);
      expect(String((await errorOf(res)).field), what).toContain(field);
    }
    const overflow = await call('POST', `/v1/models/${modelId}/predict`, {
      key: deployment.keys.read,
      body: `{"inputs":[[1,2,3,4,5,6,7,1e999]]}`,
      headers: { 'content-type': 'application/json' },
    });
    expect([400, 422]).toContain(overflow.status);
    const missingAlias = await predict({ inputs: [row], alias: 'nowhere' });
    expect(missingAlias.status).toBe(404);
    expect((await predict({ inputs: [row] }, deployment.keys.otherTenant)).status).toBe(404);

    const jobs = (json: unknown, key = deployment.keys.write) =>
      call('POST', `/v1/models/${modelId}/jobs`, { key, json });
    expect((await jobs({ stream: 'lines', iterations: -1 })).status).toBe(422);
    expect((await jobs({ stream: 'lines', epochs: 3 })).status).toBe(422);
    expect((await jobs({ stream: 'lines' }, deployment.keys.read)).status).toBe(403);
    expect((await jobs({ stream: 'lines' }, deployment.keys.otherTenant)).status).toBe(404);
    expect((await jobs({ stream: 'never-ingested' })).status).toBe(404);
    expect((await call('GET', `/v1/jobs/${randomUUID()}`, { key: deployment.keys.read })).status).toBe(404);
    expect((await call('GET', '/v1/jobs/not-a-uuid', { key: deployment.keys.read })).status).toBe(422);
  });

  it(
    'stored only valid records, and nothing acknowledged of refused requests',
    async () => {
      const exit = await server.kill('SIGTERM');
      expect(exit.code).toBe(0);
      const store = await deployment.openStore();
      try {
        for (const s of await store.listStreams(modelId)) {
          for (const r of await store.readRecords(s.id)) {
            const data = r.data as { x: unknown[]; y: number };
            expect(Object.keys(data).sort()).toEqual(['x', 'y']);
            expect(data.x).toHaveLength(8);
            expect(data.x.every((v) => typeof v === 'number' && Number.isFinite(v))).toBe(true);
          }
          for (const b of await store.listBatches(s.id)) {
            const refused = refusedKeys.some((k) => b.idempotencyKey.startsWith(`${k}:`));
            // Stored before the refusal, never acknowledged: pending, so never trained on.
            if (refused) expect(b.status, b.idempotencyKey).toBe('pending');
            else expect(b.status, b.idempotencyKey).not.toBe('pending');
          }
        }
      } finally {
        await store.close();
      }
      server = await startChildServer(deployment.env);
    },
    LONG_TEST_MS,
  );
});
