import type { Version } from '@peer/adapter-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commitGrownVersion,
  createModel,
  type DriverStore,
  randomInputs,
  servingDrivers,
} from '../../test/support/serving-fixtures.js';
import { createTestApp, type TestApp } from '../../test/support/test-app.js';

describe.each(servingDrivers())('versions and aliases (%s)', (_driver, open) => {
  let db: DriverStore;
  let t: TestApp;
  let modelId: string;
  let v1: Version;
  let v2: Version;

  const get = async (path: string, key = t.keys.read) => {
    const res = await t.call('GET', `/v1/models/${modelId}${path}`, { key });
    return { status: res.status, body: await res.json() };
  };
  const put = (name: string, json: unknown, key = t.keys.write) =>
    t.call('PUT', `/v1/models/${modelId}/aliases/${name}`, { key, json });

  beforeAll(async () => {
    db = await open();
    t = await createTestApp({}, { store: db.store });
    ({ id: modelId, v1 } = await createModel(t, 'clf'));
    v2 = await commitGrownVersion(db.store, modelId, v1);
  }, 120_000);
  afterAll(async () => {
    await t?.services.serving.close();
    await t?.close();
    await db?.cleanup();
  }, 120_000);

  it('lists versions in commit order and shows one with lineage, layers and blocks (by id or seq)', async () => {
    const list = await get('/versions');
    expect(list.status).toBe(200);
    expect(list.body.versions.map((v: { seq: number }) => v.seq)).toEqual([1, 2]);
    expect(list.body.versions[1]).toMatchObject({ id: v2.id, parentId: v1.id, contentHash: v2.contentHash });
    const bySeq = await get('/versions/2');
    const byId = await get(`/versions/${v2.id}`);
    expect(bySeq.body).toEqual(byId.body);
    expect(byId.body.ancestors.map((a: { id: string }) => a.id)).toEqual([v1.id]);
    expect(byId.body.layers['blocks.0.peer'].segments).toEqual([4, 2]);
    const names = byId.body.blocks.map((b: { name: string }) => b.name);
    expect(names).toContain('blocks.0.peer.experts.u.rows.000004-000006');
    expect(byId.body.blocks.reduce((n: number, b: { bytes: number }) => n + b.bytes, 0)).toBe(v2.totalBytes);
    expect((await get('/versions/9')).status).toBe(404);
    expect((await get('/versions/not-a-version')).status).toBe(422);
  });

  it('diffs two versions: the grown rows are added, the shifted head bias changed', async () => {
    const { status, body } = await get(`/versions/1/diff/${v2.id}`);
    expect(status).toBe(200);
    expect(body.from).toMatchObject({ id: v1.id, seq: 1 });
    expect(body.added.map((b: { name: string }) => b.name).sort()).toEqual([
      'blocks.0.peer.experts.u.rows.000004-000006',
      'blocks.0.peer.experts.v.rows.000004-000006',
      'blocks.0.peer.keys.rows.000004-000006',
    ]);
    expect(body.changed.map((c: { name: string }) => c.name)).toEqual(['heads.0.bias']);
    expect(body.identical).toBe(false);
    expect((await get('/versions/2/diff/2')).body).toMatchObject({ identical: true, added: [], changed: [] });
  });

  it('creates, moves and rolls back an alias; every move is logged with its actor', async () => {
    const created = await put('production', { version: 1, reason: 'first release' });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'production', versionId: v1.id, seq: 1 });
    const moved = await put('production', { version: v2.id });
    expect(moved.status).toBe(200);
    const stale = await put('production', { version: v1.id, expectedVersion: v1.id });
    expect(stale.status).toBe(409);
    expect((await put('production', { version: v1.id }, t.keys.read)).status).toBe(403);
    const rollback = await t.call('POST', `/v1/models/${modelId}/aliases/production/rollback`, {
      key: t.keys.write,
      json: { reason: 'bad growth' },
    });
    expect(rollback.status).toBe(200);
    expect((await rollback.json()).versionId).toBe(v1.id);
    expect((await get('/aliases/production')).body).toMatchObject({ versionId: v1.id, seq: 1 });

    const { body } = await get('/aliases/production/history');
    const writeKey = (await t.services.keys.resolve(`Bearer ${t.keys.write}`)).keyId;
    expect(body.moves.map((m: { fromSeq: number | null; toSeq: number }) => [m.fromSeq, m.toSeq])).toEqual([
      [null, 1],
      [1, 2],
      [2, 1],
    ]);
    for (const m of body.moves) expect(m.actor).toBe(`key:${writeKey}`);
    expect(body.moves[0].reason).toBe('first release');
    expect(body.moves[2].reason).toBe('bad growth');
    expect((await get('/aliases')).body.aliases.map((a: { name: string }) => a.name)).toContain('production');
    expect((await get('/aliases/none/history')).status).toBe(404);
    expect((await get('/aliases/production', t.keys.otherTenant)).status).toBe(404);
  });

  it('documents the version, alias, predict and adapter routes in the OpenAPI document', async () => {
    const doc = await (await t.call('GET', '/v1/openapi.json')).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/models/{id}/predict',
        '/v1/models/{id}/versions/{v}',
        '/v1/models/{id}/versions/{a}/diff/{b}',
        '/v1/models/{id}/aliases/{name}/history',
        '/v1/models/{id}/aliases/{name}/rollback',
        '/v1/models/{id}/adapters/{name}/export',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/models/{id}/adapters'].post.requestBody.content)).toEqual([
      'application/json',
      'multipart/form-data',
    ]);
  });

  it('reloads a moved alias in another replica through the notification, long before the alias TTL', async () => {
    const otherStore = await db.openAnother();
    const replica = await createTestApp({}, { store: otherStore });
    try {
      await replica.services.serving.ready;
      await put('canary', { version: v1.id });
      const rows = randomInputs(1, 9).rows;
      const ask = async () => {
        const res = await replica.call('POST', `/v1/models/${modelId}/predict`, {
          key: replica.keys.read,
          json: { inputs: rows, alias: 'canary' },
        });
        return ((await res.json()) as { version: { id: string } }).version.id;
      };
      expect(await ask()).toBe(v1.id); // the replica now caches canary -> v1
      const started = Date.now();
      expect((await put('canary', { version: v2.id })).status).toBe(200); // moved through the first app's store
      let seen = await ask();
      while (seen !== v2.id && Date.now() - started < 5_000) {
        await new Promise((r) => setTimeout(r, 20));
        seen = await ask();
      }
      expect(seen).toBe(v2.id);
      expect(Date.now() - started).toBeLessThan(5_000); // the alias TTL is 30 s: this was the notification
    } finally {
      await replica.services.serving.close();
      if (otherStore !== db.store) await replica.close();
    }
  });
});
