import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, SMALL_CLASSIFIER, smallRecords, type TestApp } from '../../test/support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ PEER_RATE_LIMIT_RPS: '5' });
});
afterAll(async () => {
  await t.close();
});

describe('health, readiness, metrics and rate limits', () => {
  it('answers healthz and readyz, and readyz turns 503 while draining', async () => {
    expect(await (await t.call('GET', '/healthz')).json()).toEqual({ status: 'ok' });
    expect((await t.call('GET', '/readyz')).status).toBe(200);
    t.services.lifecycle.draining = true;
    expect((await t.call('GET', '/readyz')).status).toBe(503);
    t.services.lifecycle.draining = false;
  });

  it('exposes request counts, latency, ingested records, pool size and store bytes', async () => {
    const created = await (
      await t.call('POST', '/v1/models', {
        key: t.keys.admin,
        json: { name: 'metered', kind: 'classifier', config: SMALL_CLASSIFIER },
      })
    ).json();
    await t.call('POST', `/v1/models/${created.id}/streams/a/records`, {
      key: t.keys.admin,
      body: smallRecords(7),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    const text = await (await t.call('GET', '/metrics')).text();
    expect(text).toContain('peer_http_requests_total{method="POST",route="/v1/models",status="201"} 1');
    expect(text).toMatch(
      /peer_http_request_duration_seconds_bucket\{method="POST",route="\/v1\/models",le="\+Inf"\} 1/,
    );
    expect(text).toContain(`peer_records_ingested_total{model="${created.id}"} 7`);
    // SMALL_CLASSIFIER: 4 sub-key rows x 4 columns, one PEER block.
    expect(text).toContain(`peer_pool_experts{model="${created.id}",name="metered"} 16`);
    expect(text).toMatch(/peer_store_bytes\{kind="blocks"\} [1-9]\d*/);
  });

  it('answers 429 with Retry-After once a key exceeds its rate, per key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++)
      statuses.push((await t.call('GET', '/v1/models', { key: t.keys.read })).status);
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true); // burst = 2 s worth
    expect(statuses).toContain(429);
    const limited = await t.call('GET', '/v1/models', { key: t.keys.read });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await limited.json()).error.code).toBe('rate_limited');
    // Another key has its own bucket.
    expect((await t.call('GET', '/v1/models', { key: t.keys.write })).status).toBe(200);
  });
});
