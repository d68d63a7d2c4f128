/**
 * End to end across @peer/core and @peer/adapter-store: a classifier is trained, committed, grown on a new
 * stream and committed again; only the grown rows' blocks are written; an alias rollback serves the old
 * version, which rebuilds bit-exactly. Runs on PGlite always and on PostgreSQL when DATABASE_URL is set.
 */
import { type AdapterStore, openStore } from '@peer/adapter-store';
import {
  type ClassifierManifest,
  createRandom,
  deserializeClassifier,
  growLayer,
  PeerClassifier,
  serializeClassifier,
  type TensorBlock,
} from '@peer/core';
import { initBackend, tf } from '@peer/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { throwawayDatabase } from './support/throwaway-database.js';

const drivers: [string, () => Promise<{ store: AdapterStore; cleanup: () => Promise<void> }>][] = [
  ['pglite', async () => ({ store: await openStore({ memory: true }), cleanup: async () => {} })],
];
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) {
  drivers.push([
    'postgres',
    async () => {
      const db = await throwawayDatabase(databaseUrl);
      return { store: await openStore({ url: db.url }), cleanup: db.drop };
    },
  ]);
}

function data(n: number, shift: number, seed: number): { x: tf.Tensor2D; y: Int32Array } {
  const rng = createRandom(seed);
  const x = rng.fillNormal(new Float32Array(n * 8), 1);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.int(3);
    x[i * 8 + (y[i] ?? 0)] = (x[i * 8 + (y[i] ?? 0)] ?? 0) + 3 + shift;
  }
  return { x: tf.tensor2d(x, [n, 8]), y };
}

function train(model: PeerClassifier, x: tf.Tensor2D, y: Int32Array, steps: number) {
  const optimizer: tf.Optimizer = tf.train.adam(0.01);
  for (let s = 0; s < steps; s++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => model.loss(x, y, { training: true }),
        model.trainableVariables(),
      );
      optimizer.applyGradients(grads);
    });
    for (const layer of model.peerLayers()) layer.gradients.drain(); // experts stay as initialised here
  }
  optimizer.dispose();
}

async function collect(source: AsyncIterable<TensorBlock>): Promise<TensorBlock[]> {
  const out: TensorBlock[] = [];
  for await (const b of source) out.push(b);
  return out;
}

beforeAll(async () => {
  await initBackend();
});

describe.each(drivers)('classifier versions in the store (%s)', (_name, open) => {
  let store: AdapterStore;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await open());
  });
  afterAll(async () => {
    await store.close();
    await cleanup();
  });

  it('commits a growth step as new blocks only, and an alias rollback serves the old version exactly', async () => {
    const model = new PeerClassifier(
      {
        inDim: 8,
        classes: 3,
        dModel: 16,
        peer: { heads: 2, topK: 2, dKey: 8, subKeyRows: 4, subKeyCols: 4, capacityRows: 8 },
      },
      { seed: 1 },
    );
    const first = data(64, 0, 2);
    train(model, first.x, first.y, 5);
    const probe = data(16, 0, 9).x;
    const v1Probabilities = (await model.predictAsync(probe)).probabilities;

    const tenant = await store.createTenant({ name: 'acme' });
    const record = await store.createModel({ tenantId: tenant.id, name: 'clf' });
    const s1 = serializeClassifier(model);
    const v1 = await store.commitVersion({
      modelId: record.id,
      parentId: null,
      blocks: s1.blocks,
      config: JSON.parse(JSON.stringify(s1.manifest)),
      message: 'stream 1',
    });

    const second = data(64, 2, 3);
    const [layer] = model.peerLayers();
    if (!layer) throw new Error('no PEER layer');
    growLayer(layer, { rows: 2 });
    const s2 = serializeClassifier(model);
    const previous = new Map((await collect(store.loadBlocks(v1.version.id))).map((b) => [b.name, b]));
    // Commit only what changed: the grown rows (old expert blocks are byte-identical and inherited).
    const changed = [...s2.blocks].filter((b) => {
      const old = previous.get(b.name);
      return !old || Buffer.compare(Buffer.from(old.bytes), Buffer.from(b.bytes)) !== 0;
    });
    const v2 = await store.commitVersion({
      modelId: record.id,
      parentId: v1.version.id,
      blocks: changed,
      config: JSON.parse(JSON.stringify(s2.manifest)),
      message: 'stream 2: +2 sub-key rows',
    });
    expect(changed.map((b) => b.name).sort()).toEqual([
      'blocks.0.peer.experts.u.rows.000004-000006',
      'blocks.0.peer.experts.v.rows.000004-000006',
      'blocks.0.peer.keys.rows.000004-000006',
    ]);
    expect(v2.inheritedBlocks).toBe(previous.size);
    const diff = await store.diffVersions(v1.version.id, v2.version.id);
    expect(diff.added.map((e) => e.name).sort()).toEqual(changed.map((b) => b.name).sort());
    expect(diff.changed).toEqual([]);

    await store.createAlias({
      modelId: record.id,
      name: 'production',
      versionId: v1.version.id,
      actor: 'ci',
    });
    await store.moveAlias({ modelId: record.id, name: 'production', versionId: v2.version.id, actor: 'ci' });
    await store.rollbackAlias({ modelId: record.id, name: 'production', actor: 'ci', reason: 'bad stream' });
    const alias = await store.getAlias(record.id, 'production');
    expect(alias.versionId).toBe(v1.version.id);
    const history = await store.aliasHistory(record.id, 'production');
    expect(history.length).toBe(3);

    const served = await store.getVersion(alias.versionId);
    const restored = deserializeClassifier(
      served.config as unknown as ClassifierManifest,
      await collect(store.loadBlocks(served.id)),
    );
    const restoredProbabilities = (await restored.predictAsync(probe)).probabilities;
    expect(Array.from(restoredProbabilities)).toEqual(Array.from(v1Probabilities));
    tf.dispose([first.x, second.x, probe]);
    model.dispose();
    restored.dispose();
  });
});
