import type { AdapterKey, AdapterStore, CommitResult, Version } from '@peer/adapter-store';
import type { LoraAdapter } from '@peer/core';
import { ApiError } from '../http/api-error.js';
import { ADAPTER_CHANNEL, isRemoved, isZeroKey, REMOVED_METRIC } from './stored-adapter.js';

/** One adapter line of a base model as the API shows it. */
export interface AdapterLine {
  readonly adapterId: string;
  readonly name: string;
  readonly targetLayer: string;
  readonly rank: number;
  readonly alpha: number;
  /** Retrievable by `auto` (its key is not all zeros). */
  readonly keyed: boolean;
  readonly head: Version;
  readonly removed: boolean;
  readonly versions: readonly Version[];
}

/** The adapter lines of a model, by name (removed ones included; callers filter). */
export async function listAdapterLines(store: AdapterStore, modelId: string): Promise<AdapterLine[]> {
  const keys = await store.listAdapterKeys(modelId);
  return Promise.all(keys.map((key) => lineOf(store, key)));
}

/** The line named `name`, or 404 (also for a removed one unless `includeRemoved`). */
export async function findAdapterLine(
  store: AdapterStore,
  modelId: string,
  name: string,
  options: { includeRemoved?: boolean } = {},
): Promise<AdapterLine> {
  const key = (await store.listAdapterKeys(modelId)).find((k) => k.name === name);
  const line = key ? await lineOf(store, key) : undefined;
  if (!line || (line.removed && !options.includeRemoved)) throw ApiError.notFound('adapter', name);
  return line;
}

/**
 * Commits an imported adapter as a new version of its line (the line is created on first upload; an
 * upload to a removed line brings it back). The adapter must have exactly one target module: the store
 * keeps one LoRA pair per adapter.
 */
export async function commitUploadedAdapter(
  store: AdapterStore,
  input: { modelId: string; name: string; adapter: LoraAdapter; key: Float32Array; author: string },
): Promise<CommitResult> {
  const [module, weights] = Object.entries(input.adapter.weights())[0] ?? [];
  if (!module || !weights) throw ApiError.invalidField('adapter_config.json.target_modules', 'one module', 0);
  const existing = (await store.listAdapterKeys(input.modelId)).find((k) => k.name === input.name);
  if (existing && existing.targetLayer !== module) {
    throw new ApiError(
      409,
      'conflict',
      `adapter '${input.name}' targets '${existing.targetLayer}'; upload '${module}' under another name`,
    );
  }
  // A line may exist without versions (a train-adapter job that died before committing): reuse it.
  const adapterId =
    existing?.adapterId ??
    (await store.findAdapter(input.modelId, input.name))?.id ??
    (await store.createAdapter({ modelId: input.modelId, name: input.name, targetLayer: module })).id;
  // rsLoRA scales by alpha/sqrt(r); plain LoRA with alpha·sqrt(r) is the same update, and the store has no flag.
  const alpha = input.adapter.rslora
    ? input.adapter.alpha * Math.sqrt(input.adapter.rank)
    : input.adapter.alpha;
  return store.commitAdapterVersion({
    adapterId,
    parentId: existing?.versionId ?? null,
    rank: input.adapter.rank,
    alpha,
    a: weights.a,
    b: weights.b,
    dIn: weights.inDim,
    dOut: weights.outDim,
    retrievalKey: input.key,
    metrics: { source: 'upload' },
    message: 'uploaded (PEFT)',
    author: input.author,
  });
}

/**
 * Removes an adapter: a tombstone version (same blocks, `removed: true`) becomes its head, so it is no
 * longer listed or retrieved while every earlier version stays in its history.
 */
export async function removeAdapter(
  store: AdapterStore,
  line: AdapterLine,
  author: string,
): Promise<CommitResult> {
  const head = await store.loadAdapterVersion(line.head.id);
  return store.commitAdapterVersion({
    adapterId: line.adapterId,
    parentId: head.version.id,
    rank: head.rank,
    alpha: head.alpha,
    a: head.a,
    b: head.b,
    dIn: head.dIn,
    dOut: head.dOut,
    retrievalKey: head.retrievalKey,
    metrics: { [REMOVED_METRIC]: true },
    message: 'removed',
    author,
  });
}

/** Tells every replica (this one included) that a model's adapters changed. */
export async function announceAdapters(store: AdapterStore, modelId: string): Promise<void> {
  await store.notify(ADAPTER_CHANNEL, JSON.stringify({ modelId }));
}

async function lineOf(store: AdapterStore, key: AdapterKey): Promise<AdapterLine> {
  const versions = await store.listVersions(key.adapterId);
  const head = versions.find((v) => v.id === key.versionId) ?? (await store.getVersion(key.versionId));
  return {
    adapterId: key.adapterId,
    name: key.name,
    targetLayer: key.targetLayer,
    rank: key.rank,
    alpha: key.alpha,
    keyed: !isZeroKey(key.retrievalKey),
    head,
    removed: isRemoved(head),
    versions,
  };
}

/** The public view of a line. */
export function adapterView(line: AdapterLine) {
  return {
    id: line.adapterId,
    name: line.name,
    targetLayer: line.targetLayer,
    rank: line.rank,
    alpha: line.alpha,
    keyed: line.keyed,
    removed: line.removed,
    head: { id: line.head.id, seq: line.head.seq },
    versions: line.versions.map((v) => ({
      id: v.id,
      seq: v.seq,
      removed: isRemoved(v),
      message: v.message,
      author: v.author,
      createdAt: v.createdAt.toISOString(),
    })),
  };
}
