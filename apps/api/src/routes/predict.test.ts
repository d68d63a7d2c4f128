import type { Version } from '@peer/adapter-store';
import type { PeerClassifier } from '@peer/core';
import { tf } from '@peer/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  commitGrownVersion,
  createModel,
  type DriverStore,
  loadLocal,
  randomInputs,
  servingDrivers,
} from '../../test/support/serving-fixtures.js';
import { createTestApp, type TestApp } from '../../test/support/test-app.js';
import { servedBytes } from '../serving/serving.js';

interface Body {
  version: { id: string; seq: number; contentHash: string };
  outputs: { class: number; probabilities: number[] }[];
  explain?: {
    layers: {
      layer: string;
      heads: { experts: { id: number; row: number; col: number; gate: number }[] }[];
    }[];
    adapters: unknown[];
  }[];
  error?: { code: string; field?: string; bound?: string; value?: unknown };
}

describe.each(servingDrivers())('predict (%s)', (_driver, open) => {
  let db: DriverStore;
  let t: TestApp;
  let modelId: string;
  let v1: Version;
  let local: PeerClassifier;

  const predict = async (json: unknown, key = t.keys.read) => {
    const res = await t.call('POST', `/v1/models/${modelId}/predict`, { key, json });
    return { status: res.status, body: (await res.json()) as Body };
  };

  beforeAll(async () => {
    db = await open();
    t = await createTestApp({ PEER_MAX_PREDICT_BATCH: '8' }, { store: db.store });
    ({ id: modelId, v1 } = await createModel(t, 'clf'));
    local = await loadLocal(db.store, v1.id);
  }, 120_000);
  afterAll(async () => {
    local?.dispose();
    await t?.services.serving.close();
    await t?.close();
    await db?.cleanup();
  }, 120_000);

  it('answers the head version with exactly what predictAsync of a deserialized copy gives', async () => {
    const { rows, flat } = randomInputs(3, 11);
    const { status, body } = await predict({ inputs: rows });
    expect(status).toBe(200);
    expect(body.version).toEqual({ id: v1.id, seq: 1, contentHash: v1.contentHash });
    const x = tf.tensor2d(flat, [3, 8]);
    const expected = await local.predictAsync(x);
    x.dispose();
    expect(body.outputs.map((o) => o.class)).toEqual(Array.from(expected.classes));
    expect(body.outputs.flatMap((o) => o.probabilities)).toEqual(Array.from(expected.probabilities));
    expect(body.explain).toBeUndefined();
  });

  it('rejects a batch over PEER_MAX_PREDICT_BATCH with 422 naming inputs, the bound and the size', async () => {
    const { status, body } = await predict({ inputs: randomInputs(9, 1).rows });
    expect(status).toBe(422);
    expect(body.error).toMatchObject({
      code: 'invalid_field',
      field: 'inputs',
      bound: 'an array of length <= 8',
      value: 9,
    });
  });

  it('rejects NaN (null in JSON), strings and rows of the wrong width with 422 naming the element', async () => {
    const row = randomInputs(1, 2).rows[0] ?? [];
    const cases: [unknown, string][] = [
      [[[Number.NaN, ...row.slice(1)]], 'inputs.0.0'], // JSON.stringify turns NaN into null
      [[row, ['1', ...row.slice(1)]], 'inputs.1.0'],
      [[row.slice(0, 5)], 'inputs.0'],
      [[], 'inputs'],
    ];
    for (const [inputs, field] of cases) {
      const { status, body } = await predict({ inputs });
      expect(status, JSON.stringify(inputs)).toBe(422);
      expect(body.error?.field).toBe(field);
      expect(body.error?.bound).toBeTruthy();
    }
    const wrongWidth = await predict({ inputs: [row.slice(0, 5)] });
    expect(wrongWidth.body.error).toMatchObject({ bound: 'an array of length 8', value: 5 });
    const res = await t.call('POST', `/v1/models/${modelId}/predict`, {
      key: t.keys.read,
      body: '{"inputs":[[NaN,1,2,3,4,5,6,7]]}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400); // a bare NaN is not JSON at all
    expect((await predict({ inputs: [row], task: 1 })).body.error?.field).toBe('task');
  });

  it('explains with the expert ids PeerLayer retrieval returns, grid row/col consistent with the id', async () => {
    const { rows, flat } = randomInputs(2, 5);
    const { status, body } = await predict({ inputs: rows, explain: true });
    expect(status).toBe(200);
    const [layer] = local.peerLayers();
    if (!layer) throw new Error('no PEER layer');
    const x = tf.tensor2d(flat, [2, 8]);
    const normed = tf.tidy(() => local.blocks[0]?.norm.apply(local.input.apply(x)) as tf.Tensor2D);
    const retrieval = await layer.retrieveAsync(normed);
    const routed = layer.route(normed, false);
    routed.gates.dispose();
    tf.dispose([x, normed]);
    const { heads, k } = retrieval;
    const cols = layer.keys.cols;
    expect(body.explain).toHaveLength(2);
    for (let r = 0; r < 2; r++) {
      const entry = body.explain?.[r];
      expect(entry?.adapters).toEqual([]);
      expect(entry?.layers.map((l) => l.layer)).toEqual(['blocks.0.peer']);
      const got = entry?.layers[0]?.heads ?? [];
      expect(got).toHaveLength(heads);
      for (let h = 0; h < heads; h++) {
        const experts = got[h]?.experts ?? [];
        const at = (r * heads + h) * k;
        expect(experts.map((e) => e.id)).toEqual(Array.from(retrieval.ids.subarray(at, at + k)));
        expect(experts.map((e) => e.id)).toEqual(Array.from(routed.ids.subarray(at, at + k)));
        experts.forEach((e, j) => {
          expect(e.id).toBe(e.row * cols + e.col);
          expect(e.row).toBeLessThan(layer.keys.rows);
          expect(e.col).toBeLessThan(cols);
          expect(e.gate).toBeCloseTo(retrieval.gates[at + j] ?? Number.NaN, 6);
        });
        expect(experts.reduce((s, e) => s + e.gate, 0)).toBeCloseTo(1, 5); // softmax within each head
      }
    }
  });

  it('serves a pinned version and an alias, and follows the alias back exactly when it moves', async () => {
    const v2 = await commitGrownVersion(db.store, modelId, v1);
    const local2 = await loadLocal(db.store, v2.id);
    const { rows, flat } = randomInputs(4, 8);
    const x = tf.tensor2d(flat, [4, 8]);
    const [p1, p2] = [await local.predictAsync(x), await local2.predictAsync(x)];
    x.dispose();
    local2.dispose();
    const probs = (b: Body) => b.outputs.flatMap((o) => o.probabilities);
    expect(Array.from(p2.probabilities)).not.toEqual(Array.from(p1.probabilities));

    const put = (version: string) =>
      t.call('PUT', `/v1/models/${modelId}/aliases/production`, { key: t.keys.write, json: { version } });
    expect((await put(v2.id)).status).toBe(201);
    const byAlias = await predict({ inputs: rows, alias: 'production' });
    expect(byAlias.body.version.id).toBe(v2.id);
    expect(probs(byAlias.body)).toEqual(Array.from(p2.probabilities));
    t.services.serving.resolver.invalidateHead(modelId); // as a job committing in this process does
    expect((await predict({ inputs: rows })).body.version.id).toBe(v2.id);

    expect((await put(v1.id)).status).toBe(200);
    const back = await predict({ inputs: rows, alias: 'production' });
    expect(back.body.version).toMatchObject({ id: v1.id, seq: 1 });
    expect(probs(back.body)).toEqual(Array.from(p1.probabilities));
    const pinned = await predict({ inputs: rows, version: v2.id });
    expect(probs(pinned.body)).toEqual(Array.from(p2.probabilities));
    expect((await predict({ inputs: rows, alias: 'nope' })).status).toBe(404);
    expect((await predict({ inputs: rows, alias: 'production', version: v1.id })).status).toBe(422);
  });

  it('shares one loaded model between versions of equal content (cache keyed by content hash)', async () => {
    const head = (await t.store.getModel(modelId)).headVersionId ?? '';
    const same = await t.store.commitVersion({
      modelId,
      parentId: v1.id,
      expectedHeadId: head,
      blocks: [],
      message: 'v1 again',
    });
    expect(same.version.contentHash).toBe(v1.contentHash);
    await t.call('PUT', `/v1/models/${modelId}/aliases/staging`, {
      key: t.keys.write,
      json: { version: same.version.id },
    });
    const rows = randomInputs(1, 3).rows;
    await predict({ inputs: rows, version: v1.id });
    const before = t.services.serving.cache.stats();
    const staged = await predict({ inputs: rows, alias: 'staging' });
    expect(staged.body.version).toMatchObject({ id: same.version.id, contentHash: v1.contentHash });
    expect(t.services.serving.cache.stats().loads).toBe(before.loads);
    expect(t.services.serving.cache.stats().hits).toBe(before.hits + 1);
    // Budgeted at stored bytes plus the expert rows reserved up to capacity (16 - 4 rows of 4 experts, d 16, U+V).
    expect(servedBytes(v1)).toBe(v1.totalBytes + (16 - 4) * 4 * 16 * 4 * 2);
  });

  it('does not grow the tensor count over 50 predicts after warm-up', async () => {
    const { rows } = randomInputs(2, 4);
    for (let i = 0; i < 3; i++) await predict({ inputs: rows, explain: true });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      const { status } = await predict({ inputs: rows, explain: i % 2 === 0 });
      expect(status).toBe(200);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('hides other tenants’ models and needs a key', async () => {
    const rows = randomInputs(1, 1).rows;
    expect((await predict({ inputs: rows }, t.keys.otherTenant)).status).toBe(404);
    const res = await t.call('POST', `/v1/models/${modelId}/predict`, { json: { inputs: rows } });
    expect(res.status).toBe(401);
  });
});
