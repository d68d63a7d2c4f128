import type { AdapterStore, AliasNotification, Version } from '@peer/adapter-store';
import {
  type ClassifierManifest,
  deserializeClassifier,
  type PeerClassifier,
  type TensorBlock,
} from '@peer/core';
import { tf } from '@peer/core/backend';
import { ApiError } from '../http/api-error.js';
import { logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { AdapterPools } from './adapter-pool.js';
import { type Lease, ModelCache } from './model-cache.js';
import { type AdapterRequest, type Prediction, predictBatch } from './predict.js';
import { VersionPrototypes } from './version-prototypes.js';
import { VersionResolver } from './version-resolver.js';

/** A predict request after schema validation (the batch-size bound is checked by the route). */
export interface PredictRequest {
  readonly inputs: readonly (readonly number[])[];
  readonly task?: number | undefined;
  readonly version?: string | undefined;
  readonly alias?: string | undefined;
  readonly adapters?: AdapterRequest | undefined;
  readonly explain?: boolean | undefined;
  /** Use the class prototypes saved with the version, if its job saved any (default true). */
  readonly prototypes?: boolean | undefined;
}

/** The class prototypes a prediction used: how they were joined to the head, and how many centroids. */
export interface PrototypesUsed {
  readonly mode: 'task' | 'product';
  readonly space: 'input' | 'projection';
  readonly weight: number;
  readonly centroids: number;
}

/** The predict response body. */
export interface PredictResponse extends Prediction {
  readonly model: string;
  readonly version: { readonly id: string; readonly seq: number; readonly contentHash: string };
  /** The version's class prototypes when they corrected the outputs, else null. */
  readonly prototypes: PrototypesUsed | null;
}

/**
 * The serving side of the API: resolves a request's version from memory (`VersionResolver`), leases the
 * loaded model from an LRU cache keyed by content hash (`ModelCache`), mixes in the model's adapters
 * (`AdapterPools`) and predicts with asynchronous tensor reads only. One instance per process.
 */
export class Serving {
  readonly resolver: VersionResolver;
  readonly cache: ModelCache<PeerClassifier>;
  readonly adapters: AdapterPools;
  readonly prototypes: VersionPrototypes;
  /** Resolves once notifications are subscribed (requests work before; they just rely on TTLs). */
  readonly ready: Promise<void>;

  constructor(
    private readonly store: AdapterStore,
    options: { cacheBytes: number; metrics?: Metrics },
  ) {
    this.cache = new ModelCache(options.cacheBytes);
    this.resolver = new VersionResolver(store, (change) => this.warm(change));
    this.adapters = new AdapterPools(store);
    this.prototypes = new VersionPrototypes(store);
    this.ready = Promise.all([this.resolver.start(), this.adapters.start()]).then(() => {});
    options.metrics?.gauge(
      'peer_model_cache',
      'Model cache: loads, hits, evictions, entries, bytes',
      async () => {
        const s = this.cache.stats();
        return Object.entries(s).map(([stat, value]) => [{ stat }, value]);
      },
    );
  }

  /** Predicts for the caller's tenant; 404 for a model, version or alias it cannot see. */
  async predict(tenantId: string, modelId: string, request: PredictRequest): Promise<PredictResponse> {
    const served = await this.resolver.model(modelId, tenantId);
    const version = await this.resolver.resolve(served, request);
    const lease = await this.lease(version);
    try {
      const model = lease.value;
      const task = request.task ?? 0;
      if (task >= model.heads.length) {
        throw ApiError.invalidField('task', `an integer in [0, ${model.heads.length - 1}]`, task);
      }
      const adapters = request.adapters ?? 'none';
      const saved = request.prototypes === false ? null : await this.prototypes.of(version);
      const set = adapters === 'none' ? undefined : await this.adapters.acquire(modelId);
      let x: tf.Tensor2D | undefined;
      try {
        x = inputTensor(request.inputs, model.config.inDim);
        const prediction = await predictBatch(model, x, {
          task,
          adapters,
          explain: request.explain ?? false,
          set: set?.value,
          prototypes: saved,
        });
        return {
          model: modelId,
          version: { id: version.id, seq: version.seq, contentHash: version.contentHash },
          prototypes: saved && { ...saved.settings, centroids: saved.prototypes.size },
          ...prediction,
        };
      } finally {
        x?.dispose();
        set?.release();
      }
    } finally {
      lease.release();
    }
  }

  /** The loaded model of a version (shared with every version of equal content); release when done. */
  lease(version: Version): Promise<Lease<PeerClassifier>> {
    return this.cache.lease(version.contentHash, servedBytes(version), () =>
      loadClassifier(this.store, version),
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.resolver.close(), this.adapters.close()]);
    this.cache.dispose();
  }

  /** Loads the new target of a moved alias that this replica serves, so the next request finds it warm. */
  private warm(change: AliasNotification): void {
    this.resolver
      .version(change.versionId)
      .then((version) => this.lease(version))
      .then((lease) => lease.release())
      .catch((error: unknown) => logger.warn('could not preload an alias target', { ...change, error }));
  }
}

/** Rebuilds a classifier from its stored manifest and blocks (hash-verified by the store). */
export async function loadClassifier(store: AdapterStore, version: Version): Promise<PeerClassifier> {
  const manifest = version.config as unknown as ClassifierManifest | null;
  if (manifest?.kind !== 'classifier') {
    throw new ApiError(409, 'conflict', `version ${version.id} does not hold a classifier`);
  }
  const blocks: TensorBlock[] = [];
  for await (const block of store.loadBlocks(version.id)) blocks.push(block);
  return deserializeClassifier(manifest, blocks);
}

/**
 * What a loaded version occupies, for the cache budget: its stored bytes plus the expert-table rows each
 * PEER layer reserves up to `capacityRows` (allocated at load so growth never moves experts). Untouched
 * pages cost no RAM, but they do cost the 4 GiB address space of the wasm heap, which is what runs out.
 */
export function servedBytes(version: Version): number {
  const manifest = version.config as unknown as Partial<ClassifierManifest> | null;
  let reserved = 0;
  for (const state of Object.values(manifest?.peer ?? {})) {
    const { capacityRows, subKeyCols, dModel } = state.config;
    const rows = state.segments.reduce((a, b) => a + b, 0);
    reserved += Math.max(0, (capacityRows ?? rows) - rows) * subKeyCols * dModel * 4 * 2; // U and V
  }
  return version.totalBytes + reserved;
}

/** The inputs as a [n, inDim] tensor; a row of another width is a 422 naming it. */
function inputTensor(inputs: readonly (readonly number[])[], inDim: number): tf.Tensor2D {
  const flat = new Float32Array(inputs.length * inDim);
  inputs.forEach((row, i) => {
    if (row.length !== inDim)
      throw ApiError.invalidField(`inputs.${i}`, `an array of length ${inDim}`, row.length);
    flat.set(row, i * inDim);
  });
  return tf.tensor2d(flat, [inputs.length, inDim]);
}
