import type { Version } from '@peer/adapter-store';
import {
  AdapterRegistry,
  adapterEmbedding,
  createRandom,
  exportPeft,
  LoraAdapter,
  type PeerClassifier,
  type PeftFiles,
  predictWithAdapters,
} from '@peer/core';
import { tf } from '@peer/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  type DriverStore,
  loadLocal,
  randomInputs,
  servingDrivers,
} from '../../test/support/serving-fixtures.js';
import { createTestApp, smallRecords, type TestApp } from '../../test/support/test-app.js';

interface PredictBody {
  outputs: { class: number; probabilities: number[] }[];
  explain?: { adapters: { name: string; version: number; score: number | null; weight: number }[] }[];
  error?: { code: string; field?: string };
}

/** A LoRA adapter of the `input` module with random A and B (so it changes outputs) and the given key. */
function fixtureAdapter(
  name: string,
  seed: number,
  key: Float32Array | null,
  modules = ['input'],
): LoraAdapter {
  const rng = createRandom(seed);
  const shapes = { input: { inDim: 8, outDim: 16 }, 'heads.0': { inDim: 16, outDim: 3 } } as const;
  const weights = Object.fromEntries(
    modules.map((m) => {
      const { inDim, outDim } = shapes[m as keyof typeof shapes];
      return [
        m,
        {
          inDim,
          outDim,
          a: rng.fillNormal(new Float32Array(2 * inDim), 0.5),
          b: rng.fillNormal(new Float32Array(outDim * 2), 0.5),
        },
      ];
    }),
  );
  return LoraAdapter.fromWeights({ name, version: '1', rank: 2, alpha: 4, key }, weights);
}

function peftForm(name: string, files: PeftFiles, extra: Record<string, string> = {}): FormData {
  const form = new FormData();
  form.set('name', name);
  form.set(
    'adapter_model.safetensors',
    new File([files.weights as Uint8Array<ArrayBuffer>], 'adapter_model.safetensors'),
  );
  form.set('adapter_config.json', new File([files.config], 'adapter_config.json'));
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  return form;
}

async function embeddingOf(model: PeerClassifier, flat: Float32Array): Promise<Float32Array> {
  const e = tf.tidy(() => adapterEmbedding(model, tf.tensor2d(flat, [flat.length / 8, 8])));
  const values = Float32Array.from(await e.data());
  e.dispose();
  return values;
}

describe.each(servingDrivers())('adapters (%s)', (_driver, open) => {
  let db: DriverStore;
  let t: TestApp;
  let modelId: string;
  let v1: Version;
  let local: PeerClassifier;
  let fix: LoraAdapter;
  let fixFiles: PeftFiles;
  const probeA = randomInputs(1, 21);
  const probeB = randomInputs(1, 22);

  const predict = async (json: Record<string, unknown>) => {
    const res = await t.call('POST', `/v1/models/${modelId}/predict`, { key: t.keys.read, json });
    return { status: res.status, body: (await res.json()) as PredictBody };
  };
  const upload = (form: FormData) =>
    t.call('POST', `/v1/models/${modelId}/adapters`, { key: t.keys.write, body: form });
  const list = async (query = '') =>
    (
      (await (
        await t.call('GET', `/v1/models/${modelId}/adapters${query}`, { key: t.keys.read })
      ).json()) as {
        adapters: { name: string; keyed: boolean; removed: boolean }[];
      }
    ).adapters;

  beforeAll(async () => {
    db = await open();
    t = await createTestApp({}, { store: db.store });
    ({ id: modelId, v1 } = await createModel(t, 'clf'));
    local = await loadLocal(db.store, v1.id);
    fix = fixtureAdapter('fix', 7, await embeddingOf(local, probeA.flat));
    fixFiles = exportPeft(fix);
  }, 120_000);
  afterAll(async () => {
    fix?.dispose();
    local?.dispose();
    await t?.services.serving.close();
    await t?.close();
    await db?.cleanup();
  }, 120_000);

  it('uploads a PEFT adapter (key from its metadata) and another with a key field; lists both', async () => {
    const res = await upload(peftForm('fix', fixFiles));
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      name: 'fix',
      targetLayer: 'input',
      rank: 2,
      alpha: 4,
      keyed: true,
      removed: false,
    });
    const other = fixtureAdapter('other', 8, null);
    const otherKey = Array.from(await embeddingOf(local, probeB.flat));
    expect(
      (await upload(peftForm('other', exportPeft(other), { key: JSON.stringify(otherKey) }))).status,
    ).toBe(201);
    const keyless = fixtureAdapter('keyless', 9, null);
    expect((await upload(peftForm('keyless', exportPeft(keyless)))).status).toBe(201);
    other.dispose();
    keyless.dispose();
    const adapters = await list();
    expect(adapters.map((a) => [a.name, a.keyed])).toEqual([
      ['fix', true],
      ['keyless', false],
      ['other', true],
    ]);
  });

  it('rejects adapters that do not fit the model with 422 naming the file or field', async () => {
    const two = fixtureAdapter('two', 1, null, ['input', 'heads.0']);
    const wide = fixtureWide();
    const wideFiles = exportPeft(wide);
    wide.dispose();
    const cases: [FormData, string][] = [
      [peftForm('two', exportPeft(two)), 'adapter_config.json.target_modules'],
      [peftForm('bad', { config: fixFiles.config, weights: wideFiles.weights }), 'adapter_model.safetensors'],
      [peftForm('bad', { config: '{"peft_type":"IA3"}', weights: fixFiles.weights }), 'adapter_config.json'],
      [peftForm('bad', fixFiles, { key: '[1,2,3]' }), 'key'],
      [peftForm('bad name!', fixFiles), 'name'],
    ];
    two.dispose();
    for (const [form, field] of cases) {
      const res = await upload(form);
      expect(res.status, field).toBe(422);
      expect(((await res.json()) as PredictBody).error?.field).toBe(field);
    }
    const tiny = await createTestApp({ PEER_MAX_BODY_BYTES: '500' }, { store: db.store });
    try {
      const big = await tiny.call('POST', `/v1/models/${modelId}/adapters`, {
        key: tiny.keys.write,
        body: peftForm('big', fixFiles),
      });
      expect(big.status).toBe(413);
    } finally {
      await tiny.services.serving.close();
      await tiny.close();
    }
    const missing = new FormData();
    missing.set('name', 'x');
    expect(((await (await upload(missing)).json()) as PredictBody).error?.field).toBe('adapter_config.json');
  });

  it('predicts with a named adapter: differs from none and equals core predictWithAdapters', async () => {
    const rows = [...probeA.rows, ...probeB.rows];
    const flat = Float32Array.from([...probeA.flat, ...probeB.flat]);
    const none = await predict({ inputs: rows });
    const named = await predict({ inputs: rows, adapters: [{ name: 'fix', weight: 1 }] });
    expect(named.status).toBe(200);
    const probs = (b: PredictBody) => b.outputs.flatMap((o) => o.probabilities);
    expect(probs(named.body)).not.toEqual(probs(none.body));
    const registry = new AdapterRegistry();
    registry.add(fixtureAdapter('fix', 7, null));
    const x = tf.tensor2d(flat, [2, 8]);
    const core = await predictWithAdapters(local, registry, x, { selection: [{ name: 'fix', weight: 1 }] });
    x.dispose();
    registry.dispose();
    probs(named.body).forEach((p, i) => {
      expect(p).toBeCloseTo(core.probabilities[i] ?? Number.NaN, 5);
    });
    const half = await predict({ inputs: rows, adapters: [{ name: 'fix', version: '1', weight: 0.5 }] });
    expect(probs(half.body)).not.toEqual(probs(named.body));
    expect((await predict({ inputs: rows, adapters: [{ name: 'nope' }] })).status).toBe(404);
  });

  it('auto picks the adapter whose key matches each input, and explains the choice', async () => {
    const auto = await predict({ inputs: [...probeA.rows, ...probeB.rows], adapters: 'auto', explain: true });
    expect(auto.status).toBe(200);
    const [a, b] = auto.body.explain ?? [];
    expect(a?.adapters.map((x) => x.name)).toEqual(['fix']);
    expect(a?.adapters[0]?.score).toBeCloseTo(1, 5); // the key is this input's own embedding
    expect(a?.adapters[0]?.weight).toBe(1);
    expect(b?.adapters.map((x) => x.name)).toEqual(['other']);
    const named = await predict({ inputs: probeA.rows, adapters: [{ name: 'fix' }] });
    expect(auto.body.outputs[0]).toEqual(named.body.outputs[0]);
  });

  it('exports PEFT files byte-identical to the upload', async () => {
    const path = `/v1/models/${modelId}/adapters/fix/export`;
    const weights = await t.call('GET', `${path}?file=adapter_model.safetensors`, { key: t.keys.read });
    expect(weights.status).toBe(200);
    expect(Buffer.compare(Buffer.from(await weights.arrayBuffer()), Buffer.from(fixFiles.weights))).toBe(0);
    const config = await t.call('GET', `${path}?file=adapter_config.json`, { key: t.keys.read });
    expect(JSON.parse(await config.text())).toMatchObject({
      peft_type: 'LORA',
      r: 2,
      lora_alpha: 4,
      target_modules: ['input'],
    });
    const both = (await (await t.call('GET', path, { key: t.keys.read })).json()) as {
      files: Record<string, string>;
    };
    expect(
      Buffer.from(both.files['adapter_model.safetensors'] ?? '', 'base64').equals(
        Buffer.from(fixFiles.weights),
      ),
    ).toBe(true);
  });

  it('removes an adapter: gone from the list and from auto, history and pinned versions kept', async () => {
    const replicaStore = await db.openAnother();
    const replica = await createTestApp({}, { store: replicaStore });
    try {
      await replica.services.serving.ready;
      const askReplica = async () => {
        const res = await replica.call('POST', `/v1/models/${modelId}/predict`, {
          key: replica.keys.read,
          json: { inputs: probeA.rows, adapters: 'auto', explain: true },
        });
        return ((await res.json()) as PredictBody).explain?.[0]?.adapters.map((a) => a.name);
      };
      expect(await askReplica()).toEqual(['fix']);
      const del = await t.call('DELETE', `/v1/models/${modelId}/adapters/fix`, { key: t.keys.write });
      expect(del.status).toBe(200);
      expect(await del.json()).toMatchObject({ removed: true, head: { seq: 2 } });
      expect((await list()).map((a) => a.name)).toEqual(['keyless', 'other']);
      expect((await list('?includeRemoved=true')).find((a) => a.name === 'fix')?.removed).toBe(true);
      const auto = await predict({ inputs: probeA.rows, adapters: 'auto', explain: true });
      expect(auto.body.explain?.[0]?.adapters.map((a) => a.name)).toEqual(['other']);
      expect((await predict({ inputs: probeA.rows, adapters: [{ name: 'fix' }] })).status).toBe(404);
      expect((await predict({ inputs: probeA.rows, adapters: [{ name: 'fix', version: 1 }] })).status).toBe(
        200,
      );
      const history = await (
        await t.call('GET', `/v1/models/${modelId}/adapters/fix`, { key: t.keys.read })
      ).json();
      expect(history.versions.map((v: { seq: number; removed: boolean }) => [v.seq, v.removed])).toEqual([
        [1, false],
        [2, true],
      ]);
      const exported = await t.call(
        'GET',
        `/v1/models/${modelId}/adapters/fix/export?version=1&file=adapter_model.safetensors`,
        { key: t.keys.read },
      );
      expect(Buffer.from(await exported.arrayBuffer()).equals(Buffer.from(fixFiles.weights))).toBe(true);
      expect(
        (await t.call('GET', `/v1/models/${modelId}/adapters/fix/export`, { key: t.keys.read })).status,
      ).toBe(404);
      // The other replica learns of the removal from the notification (its TTL is 5 s).
      const started = Date.now();
      let seen = await askReplica();
      while (seen?.includes('fix') && Date.now() - started < 3_000) {
        await new Promise((r) => setTimeout(r, 20));
        seen = await askReplica();
      }
      expect(seen).toEqual(['other']);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await replica.services.serving.close();
      await replica.close();
    }
  });

  it('keeps the tensor count flat over 30 predicts with adapters', async () => {
    const json = { inputs: [...probeA.rows, ...probeB.rows], adapters: 'auto', explain: true };
    for (let i = 0; i < 3; i++) await predict(json);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) {
      const res = await predict(i % 2 ? json : { ...json, adapters: [{ name: 'other', weight: 0.5 }] });
      expect(res.status).toBe(200);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('queues a train-adapter job from a stream (202 with the job)', async () => {
    const ingest = await t.call('POST', `/v1/models/${modelId}/streams/s1/records`, {
      key: t.keys.write,
      body: smallRecords(30),
      headers: { 'content-type': 'application/x-ndjson' },
    });
    expect(ingest.status).toBe(202);
    const res = await t.call('POST', `/v1/models/${modelId}/adapters`, {
      key: t.keys.write,
      json: { stream: 's1', name: 'trained', rank: 2, iterations: 10 },
    });
    expect(res.status).toBe(202);
    const job = await res.json();
    expect(job).toMatchObject({ modelId, kind: 'train-adapter', status: 'queued', attempts: 0 });
    expect(job.spec).toMatchObject({
      stream: 's1',
      iterations: 10,
      adapter: { name: 'trained', rank: 2, alpha: 4 },
    });
    expect((await t.store.getJob(job.id)).kind).toBe('train-adapter');
    const missing = await t.call('POST', `/v1/models/${modelId}/adapters`, {
      key: t.keys.write,
      json: { stream: 'nope', name: 'x' },
    });
    expect(missing.status).toBe(404);
    const readOnly = await t.call('POST', `/v1/models/${modelId}/adapters`, {
      key: t.keys.read,
      json: { stream: 's1', name: 'x' },
    });
    expect(readOnly.status).toBe(403);
  });
});

/** An `input` adapter of the wrong width (in 5 instead of 8). */
function fixtureWide(): LoraAdapter {
  const rng = createRandom(3);
  return LoraAdapter.fromWeights(
    { name: 'wide', version: '1', rank: 2, alpha: 4 },
    {
      input: {
        inDim: 5,
        outDim: 16,
        a: rng.fillNormal(new Float32Array(10), 1),
        b: rng.fillNormal(new Float32Array(32), 1),
      },
    },
  );
}
