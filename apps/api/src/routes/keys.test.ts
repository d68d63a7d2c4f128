import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('API key management', () => {
  it('creates a key once, lists it without the secret, and a revoked key stops working', async () => {
    const created = await t.call('POST', '/v1/keys', {
      key: t.keys.admin,
      json: { name: 'ci', scope: 'read' },
    });
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body.key).toMatch(/^peer_/);
    expect(body).toMatchObject({ name: 'ci', scope: 'read', prefix: body.key.slice(0, 12), revokedAt: null });
    expect((await t.call('GET', '/v1/models', { key: body.key })).status).toBe(200);

    const list = await (await t.call('GET', '/v1/keys', { key: t.keys.admin })).json();
    const listed = list.keys.find((k: { id: string }) => k.id === body.id);
    expect(listed).toBeDefined();
    expect(JSON.stringify(list)).not.toContain(body.key);
    expect(JSON.stringify(list)).not.toMatch(/[0-9a-f]{64}/); // no hashes either

    const revoked = await t.call('DELETE', `/v1/keys/${body.id}`, { key: t.keys.admin });
    expect(revoked.status).toBe(200);
    expect((await revoked.json()).revokedAt).not.toBeNull();
    expect((await t.call('GET', '/v1/models', { key: body.key })).status).toBe(401);
  });

  it('needs admin scope and never reaches another tenant’s keys', async () => {
    expect((await t.call('GET', '/v1/keys', { key: t.keys.write })).status).toBe(403);
    const created = await (
      await t.call('POST', '/v1/keys', { key: t.keys.admin, json: { name: 'mine', scope: 'write' } })
    ).json();
    const foreign = await t.call('DELETE', `/v1/keys/${created.id}`, { key: t.keys.otherTenant });
    expect(foreign.status).toBe(404);
    expect((await t.call('GET', '/v1/models', { key: created.key })).status).toBe(200);
    const theirs = await (await t.call('GET', '/v1/keys', { key: t.keys.otherTenant })).json();
    expect(theirs.keys.some((k: { id: string }) => k.id === created.id)).toBe(false);
    const bad = await t.call('POST', '/v1/keys', { key: t.keys.admin, json: { name: 'x', scope: 'root' } });
    expect(bad.status).toBe(422);
    expect((await bad.json()).error).toMatchObject({ field: 'scope', value: 'root' });
  });
});
