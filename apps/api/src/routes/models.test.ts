import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, SMALL_CLASSIFIER, type TestApp } from '../../test/support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t.close();
});

describe('models routes', () => {
  it('creates a model with version 1, lists it and reads it back', async () => {
    const res = await t.call('POST', '/v1/models', {
      key: t.keys.write,
      json: { name: 'clf', kind: 'classifier', config: SMALL_CLASSIFIER, seed: 3 },
    });
    expect(res.status).toBe(201);
    const model = await res.json();
    expect(model).toMatchObject({ name: 'clf', kind: 'classifier', versionCount: 1, seed: 3 });
    expect(model.config.inDim).toBe(8);
    expect(model.defaultStrategy.plugins).toEqual(['freeze-and-grow', 'replay']);
    const list = await (await t.call('GET', '/v1/models', { key: t.keys.read })).json();
    expect(list.models.map((m: { id: string }) => m.id)).toContain(model.id);
    const one = await t.call('GET', `/v1/models/${model.id}`, { key: t.keys.read });
    expect(await one.json()).toMatchObject({ id: model.id, headVersionId: model.headVersionId });
  });

  it('rejects a core config bound with 422 naming config.<field>, the bound and the value', async () => {
    const res = await t.call('POST', '/v1/models', {
      key: t.keys.write,
      json: { name: 'bad', kind: 'classifier', config: { ...SMALL_CLASSIFIER, classes: 0 } },
    });
    expect(res.status).toBe(422);
    const body = await res.json();
    expect(body.error).toMatchObject({ code: 'invalid_field', field: 'config.classes', value: 0 });
    expect(body.error.bound).toMatch(/0/);
  });

  it('rejects a default strategy every job would be refused with, naming defaultStrategy.<field>', async () => {
    const create = (defaultStrategy: unknown) =>
      t.call('POST', '/v1/models', {
        key: t.keys.write,
        json: { name: 'strategy', kind: 'classifier', config: SMALL_CLASSIFIER, defaultStrategy },
      });
    const cases: [unknown, string, unknown][] = [
      [
        { plugins: ['replay'], settings: { replay: { capacity: -1 } } },
        'defaultStrategy.settings.replay.capacity',
        -1,
      ],
      // Replay's image shifts must cover the model's 8 inputs exactly: 3 × 3 is 9.
      [
        { plugins: ['replay'], settings: { replay: { augment: { height: 3, width: 3, maxShift: 1 } } } },
        'defaultStrategy.settings.replay.augment',
        '3 × 3 × 1 = 9',
      ],
      [{ plugins: ['replay', 'replay'] }, 'defaultStrategy.plugins', ['replay', 'replay']],
    ];
    for (const [strategy, field, value] of cases) {
      const res = await create(strategy);
      expect(res.status, JSON.stringify(strategy)).toBe(422);
      expect((await res.json()).error).toMatchObject({ code: 'invalid_field', field, value });
    }
    const ok = await create({
      plugins: ['replay'],
      settings: { replay: { augment: { height: 2, width: 4, maxShift: 1 } } },
    });
    expect(ok.status).toBe(201);
  });

  it('rejects unknown fields, bad names and wrong types with 422 bodies', async () => {
    const cases: [unknown, string][] = [
      [{ name: 'a', kind: 'classifier', config: SMALL_CLASSIFIER, extra: 1 }, 'extra'],
      [{ name: "x'; drop table models;--", kind: 'classifier', config: SMALL_CLASSIFIER }, 'name'],
      [{ name: 'a', kind: 'regressor', config: SMALL_CLASSIFIER }, 'kind'],
      [{ name: 'a', kind: 'classifier', config: SMALL_CLASSIFIER, seed: 'one' }, 'seed'],
    ];
    for (const [json, field] of cases) {
      const res = await t.call('POST', '/v1/models', { key: t.keys.write, json });
      expect(res.status, JSON.stringify(json)).toBe(422);
      expect((await res.json()).error.field).toBe(field);
    }
    const list = await (await t.call('GET', '/v1/models', { key: t.keys.read })).json();
    expect(list.models.map((m: { name: string }) => m.name)).not.toContain("x'; drop table models;--");
  });

  it('answers 413 for a JSON body over the limit without reading it whole', async () => {
    const small = await createTestApp({ PEER_MAX_BODY_BYTES: '1000' });
    try {
      const res = await small.call('POST', '/v1/models', {
        key: small.keys.write,
        json: { name: 'big', kind: 'classifier', config: { ...SMALL_CLASSIFIER, pad: 'x'.repeat(5000) } },
      });
      expect(res.status).toBe(413);
      expect((await res.json()).error).toMatchObject({ code: 'payload_too_large', field: 'body' });
    } finally {
      await small.close();
    }
  });

  it('answers malformed JSON with a 400 JSON body, and a duplicate name with 409', async () => {
    const bad = await t.call('POST', '/v1/models', {
      key: t.keys.write,
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_request');
    const json = { name: 'dup', kind: 'classifier', config: SMALL_CLASSIFIER };
    expect((await t.call('POST', '/v1/models', { key: t.keys.write, json })).status).toBe(201);
    const again = await t.call('POST', '/v1/models', { key: t.keys.write, json });
    expect(again.status).toBe(409);
  });

  it('enforces keys: 401 without or with a bad key, 403 for a small scope, 404 across tenants', async () => {
    expect((await t.call('GET', '/v1/models')).status).toBe(401);
    expect((await t.call('GET', '/v1/models', { key: 'peer_notarealkeynotarealkey12345' })).status).toBe(401);
    expect((await t.call('GET', '/v1/models', { key: 'garbage' })).status).toBe(401);
    const json = { name: 'scoped', kind: 'classifier', config: SMALL_CLASSIFIER };
    const denied = await t.call('POST', '/v1/models', { key: t.keys.read, json });
    expect(denied.status).toBe(403);
    expect((await denied.json()).error).toMatchObject({
      code: 'forbidden',
      required: 'write',
      granted: 'read',
    });
    const created = await (await t.call('POST', '/v1/models', { key: t.keys.write, json })).json();
    const foreign = await t.call('GET', `/v1/models/${created.id}`, { key: t.keys.otherTenant });
    expect(foreign.status).toBe(404);
    const list = await (await t.call('GET', '/v1/models', { key: t.keys.otherTenant })).json();
    expect(list.models).toEqual([]);
  });

  it('serves JSON 404s for unknown routes, the OpenAPI document and the docs page', async () => {
    const missing = await t.call('GET', '/v1/nothing-here');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe('not_found');
    const doc = await (await t.call('GET', '/v1/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/v1/models/{id}/streams/{stream}/records');
    const docs = await t.call('GET', '/docs');
    expect(await docs.text()).toContain('/v1/openapi.json');
  });
});
