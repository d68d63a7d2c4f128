import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, SMALL_CLASSIFIER, smallRecords, type TestApp } from '../../test/support/test-app.js';

let t: TestApp;
let modelId: string;
const ndjson = { 'content-type': 'application/x-ndjson' };

beforeAll(async () => {
  t = await createTestApp({ PEER_MAX_LINE_BYTES: '4096', PEER_MAX_BODY_BYTES: '2000000' });
  const res = await t.call('POST', '/v1/models', {
    key: t.keys.write,
    json: { name: 'ingest', kind: 'classifier', config: SMALL_CLASSIFIER },
  });
  modelId = (await res.json()).id;
});
afterAll(async () => {
  await t.close();
});

const ingest = (stream: string, body: BodyInit, headers: Record<string, string> = {}) =>
  t.call('POST', `/v1/models/${modelId}/streams/${stream}/records`, {
    key: t.keys.write,
    body,
    headers: { ...ndjson, ...headers },
  });

describe('NDJSON ingest', () => {
  it('stores every valid line durably and reports offsets', async () => {
    const res = await ingest('s1', smallRecords(10_000), { 'idempotency-key': 'batch-1' });
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body).toMatchObject({
      lines: 10_000,
      accepted: 10_000,
      rejected: 0,
      offsets: [0, 9999],
      replayed: false,
    });
    const records = await t.store.readRecords(body.streamId, { fromOffset: 9998, limit: 5 });
    expect(records.map((r) => r.offset)).toEqual([9998, 9999]);
    const stream = await (
      await t.call('GET', `/v1/models/${modelId}/streams/s1`, { key: t.keys.read })
    ).json();
    expect(stream.records).toBe(10_000);
    const batches = await t.store.listBatches(body.streamId);
    expect(batches.map((b) => b.status)).toEqual(['acknowledged', 'acknowledged', 'acknowledged']);
    expect((await t.store.replayState(body.streamId)).seen).toBe(10_000);
  });

  it('rejects bad lines one by one with line numbers and stores only the good ones', async () => {
    const good = JSON.stringify({ x: [1, 2, 3, 4, 5, 6, 7, 8], y: 1 });
    const lines = [
      good,
      '{"x":[1,2,3],"y":0}', // wrong length
      '{"x":[1,2,3,4,5,6,7,"8"],"y":0}', // string for a number
      '{"x":[1,2,3,4,5,6,7,NaN],"y":0}', // not JSON
      '{"x":[1,2,3,4,5,6,7,1e999],"y":0}', // Infinity
      '{"x":[1,2,3,4,5,6,7,8],"y":7}', // class out of range
      '{"x":[1,2,3,4,5,6,7,8],"y":0,"label":1}', // unknown field
      '{"x":[1,2,3,4,5,6,7,8],', // truncated
      `{"x":[${'1,'.repeat(3000)}1],"y":0}`, // longer than PEER_MAX_LINE_BYTES
      good,
    ];
    const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
    // Line 11: invalid UTF-8 (a lone continuation byte inside a string).
    const withBadUtf8 = new Uint8Array([
      ...bytes,
      ...new TextEncoder().encode('{"x":"'),
      0x80,
      0x22,
      0x7d,
      0x0a,
    ]);
    const res = await ingest('s2', withBadUtf8, { 'idempotency-key': 'mixed' });
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body.accepted).toBe(2);
    expect(body.rejected).toBe(9);
    expect(body.errors.map((e: { line: number }) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 11]);
    expect(body.errors[0]).toMatchObject({ field: 'x' });
    expect(body.errors[1]).toMatchObject({ field: 'x[7]' });
    expect(body.errors[5]).toMatchObject({ field: 'label' });
    expect(body.errors[7].reason).toMatch(/longer than the limit of 4096/);
    expect(body.errors[8].reason).toMatch(/UTF-8/);
    const stored = await t.store.readRecords(body.streamId);
    expect(stored).toHaveLength(2);
  });

  it('replays an idempotency key: same result, nothing stored twice; a different body is 409', async () => {
    const text = smallRecords(50, 7);
    const first = await (await ingest('s3', text, { 'idempotency-key': 'k-1' })).json();
    const again = await (await ingest('s3', text, { 'idempotency-key': 'k-1' })).json();
    expect(again).toEqual({ ...first, replayed: true });
    expect((await t.store.replayState(first.streamId)).seen).toBe(50); // sampled once, not per replay
    expect((await t.store.readRecords(first.streamId)).length).toBe(50);
    const other = await ingest('s3', smallRecords(50, 8), { 'idempotency-key': 'k-1' });
    expect(other.status).toBe(409);
  });

  it('two concurrent requests with one key ingest once', async () => {
    const text = smallRecords(5000, 11);
    const [a, b] = await Promise.all([
      ingest('s4', text, { 'idempotency-key': 'same' }),
      ingest('s4', text, { 'idempotency-key': 'same' }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const [ra, rb] = [await a.json(), await b.json()];
    expect(ra.offsets).toEqual(rb.offsets);
    expect((await t.store.readRecords(ra.streamId)).length).toBe(5000);
  });

  it('answers 413 for a body over the limit, 415 for the wrong type, 422 for a bad key', async () => {
    const big = smallRecords(30_000);
    expect(big.length).toBeGreaterThan(2_000_000);
    // Streamed without a Content-Length, so the limit hits while batches are already being stored.
    const chunks = new TextEncoder().encode(big);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < chunks.length; at += 65_536)
          controller.enqueue(chunks.subarray(at, at + 65_536));
        controller.close();
      },
    });
    const tooBig = await t.app.request(`/v1/models/${modelId}/streams/s5/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.keys.write}`, ...ndjson },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(tooBig.status).toBe(413);
    expect((await tooBig.json()).error).toMatchObject({ code: 'payload_too_large', field: 'body' });
    // Declared too large up front: refused unread, so the connection must not be reused.
    const declared = await ingest('s5', 'x', { 'content-length': '99999999' });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('connection')).toBe('close');
    const wrongType = await t.call('POST', `/v1/models/${modelId}/streams/s5/records`, {
      key: t.keys.write,
      json: { x: [1] },
    });
    expect(wrongType.status).toBe(415);
    const badKey = await ingest('s5', smallRecords(1), { 'idempotency-key': 'has spaces' });
    expect(badKey.status).toBe(422);
    expect((await badKey.json()).error.field).toBe('idempotency-key');
    const stream = await t.call('GET', `/v1/models/${modelId}/streams/s5`, { key: t.keys.read });
    expect(stream.status).toBe(200);
    const s5 = await stream.json();
    // Whatever a rejected request wrote before the limit hit stays pending: never acknowledged, never trained.
    const batches = await t.store.listBatches(s5.id);
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((b) => b.status === 'pending')).toBe(true);
  });

  it('needs write scope and the caller’s own model', async () => {
    const readOnly = await t.call('POST', `/v1/models/${modelId}/streams/s6/records`, {
      key: t.keys.read,
      body: smallRecords(1),
      headers: ndjson,
    });
    expect(readOnly.status).toBe(403);
    const foreign = await t.call('POST', `/v1/models/${modelId}/streams/s6/records`, {
      key: t.keys.otherTenant,
      body: smallRecords(1),
      headers: ndjson,
    });
    expect(foreign.status).toBe(404);
  });
});
