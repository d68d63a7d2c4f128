import { type AdapterStore, type JsonObject, openStore, type Version } from '@peer/adapter-store';
import {
  type ClassifierManifest,
  createRandom,
  deserializeClassifier,
  growLayer,
  type PeerClassifier,
  serializeClassifier,
  type TensorBlock,
} from '@peer/core';
import { tf } from '@peer/core/backend';
import { SMALL_CLASSIFIER, type TestApp } from './test-app.js';
import { throwawayDatabase } from './throwaway-database.js';

/** A store per driver: PGlite always, PostgreSQL (a throwaway database) when `DATABASE_URL` is set. */
export interface DriverStore {
  readonly store: AdapterStore;
  /** A second, independent connection to the same database (PGlite is one session: the same store). */
  openAnother(): Promise<AdapterStore>;
  cleanup(): Promise<void>;
}

/** `[name, open]` pairs for `describe.each`. */
export function servingDrivers(): [string, () => Promise<DriverStore>][] {
  const drivers: [string, () => Promise<DriverStore>][] = [
    [
      'pglite',
      async () => {
        const store = await openStore({ memory: true });
        return { store, openAnother: async () => store, cleanup: () => store.close() };
      },
    ],
  ];
  const url = process.env.DATABASE_URL;
  if (url) {
    drivers.push([
      'postgres',
      async () => {
        const db = await throwawayDatabase(url, 'serving');
        const store = await openStore({ url: db.url });
        const others: AdapterStore[] = [];
        return {
          store,
          openAnother: async () => {
            const other = await openStore({ url: db.url });
            others.push(other);
            return other;
          },
          cleanup: async () => {
            for (const o of others) await o.close();
            await store.close();
            await db.drop();
          },
        };
      },
    ]);
  }
  return drivers;
}

/** Creates a `SMALL_CLASSIFIER` model through the API; returns its id and version 1. */
export async function createModel(t: TestApp, name: string, seed = 3): Promise<{ id: string; v1: Version }> {
  const res = await t.call('POST', '/v1/models', {
    key: t.keys.write,
    json: { name, kind: 'classifier', config: SMALL_CLASSIFIER, seed },
  });
  if (res.status !== 201) throw new Error(`create model: ${res.status} ${await res.text()}`);
  const model = (await res.json()) as { id: string; headVersionId: string };
  return { id: model.id, v1: await t.store.getVersion(model.headVersionId) };
}

/** A classifier deserialized from a stored version, independent of the API's cache. */
export async function loadLocal(store: AdapterStore, versionId: string): Promise<PeerClassifier> {
  const version = await store.getVersion(versionId);
  const blocks: TensorBlock[] = [];
  for await (const b of store.loadBlocks(versionId)) blocks.push(b);
  return deserializeClassifier(version.config as unknown as ClassifierManifest, blocks);
}

/**
 * Commits version 2 directly through the store: the pool grown by 2 sub-key rows (as a training job would)
 * and a head bias shifted, so its outputs surely differ from version 1's.
 */
export async function commitGrownVersion(
  store: AdapterStore,
  modelId: string,
  parent: Version,
): Promise<Version> {
  const model = await loadLocal(store, parent.id);
  try {
    const [layer] = model.peerLayers();
    if (!layer) throw new Error('no PEER layer');
    growLayer(layer, { rows: 2 });
    const bias = model.heads[0]?.bias;
    if (!bias) throw new Error('no head bias');
    tf.tidy(() => bias.assign(tf.tensor1d([1.5, -1, 0.25])));
    const { manifest, blocks } = serializeClassifier(model);
    const previous = new Map<string, TensorBlock>();
    for await (const b of store.loadBlocks(parent.id)) previous.set(b.name, b);
    const changed = [...blocks].filter((b) => {
      const old = previous.get(b.name);
      return !old || Buffer.compare(Buffer.from(old.bytes), Buffer.from(b.bytes)) !== 0;
    });
    const result = await store.commitVersion({
      modelId,
      parentId: parent.id,
      blocks: changed,
      config: JSON.parse(JSON.stringify(manifest)) as JsonObject,
      message: 'grown by 2 rows, head bias shifted',
    });
    return result.version;
  } finally {
    model.dispose();
  }
}

/** `n` random inputs of `SMALL_CLASSIFIER` width, as nested arrays and as a flat Float32Array. */
export function randomInputs(n: number, seed: number): { rows: number[][]; flat: Float32Array } {
  const rng = createRandom(seed);
  const flat = rng.fillNormal(new Float32Array(n * SMALL_CLASSIFIER.inDim), 1);
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(flat.subarray(i * 8, (i + 1) * 8)));
  return { rows, flat };
}
