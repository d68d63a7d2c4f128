import { createHash, randomUUID } from 'node:crypto';
import type {
  RegularizationState as ContinualRegularization,
  ReplayItem as ContinualReplayItem,
  ContinualStateStore,
  ReplaySnapshot,
} from '@peer/core';
import type { TensorBlock } from '@peer/core/serialization';
import { AlreadyExistsError, NotFoundError, StoreValidationError, VersionConflictError } from './errors.js';
import type { AdapterStore } from './store.js';
import type { JsonObject, JsonValue, Model } from './types.js';

/** Suffix of the companion model line that holds a model's continual-learning state. */
export const CONTINUAL_STATE_SUFFIX = '.continual-state';

/** Tag of the first record of a stored replay snapshot (bump it if the layout changes). */
const REPLAY_FORMAT = 'peer.replay-snapshot/1';
/** Max entity-name length of the store (validation.ts MAX_NAME_LENGTH). */
const MAX_NAME = 100;
/** Commits of key versions race other writers on the same state line; a few rebases settle it. */
const COMMIT_ATTEMPTS = 5;

/** Options of {@link PostgresContinualStateStore}. */
export interface ContinualStateStoreOptions {
  /** Author of the key versions and alias moves this store writes (default `continual-learner`). */
  readonly author?: string;
}

/**
 * The core's `ContinualStateStore` on an `AdapterStore` (PGlite or PostgreSQL), scoped to one model line
 * reserved for continual state (see {@link PostgresContinualStateStore.forModel}).
 *
 * - Replay snapshots: one store stream per learner stream id; each save appends one batch (header record,
 *   then one record per kept item, so no record nears the 1 MiB limit) and a load reads the newest batch.
 *   The store's own server-side reservoir (`configureReplay`) is not used: it keeps one reservoir per
 *   stream with its own generator, while the core's snapshot may be class-balanced and carries its rng.
 * - Regularization state: learner version keys (`<run>/after-<stream>`) are not store versions, so each key
 *   gets an empty "key version" on the state line, found again through an alias; anchors and Fisher blocks
 *   are then saved with `saveRegularization` on it (content-addressed, so an anchor equal to stored weights
 *   costs no bytes). Like every store version, a (key, method) state is write-once: saving it twice is an
 *   `AlreadyExistsError` (the in-memory store overwrites; no core plugin saves a key twice).
 *
 * Missing keys load as `undefined`, as in `InMemoryContinualStateStore`.
 *
 * @example
 * const state = await PostgresContinualStateStore.forModel(store, model.id);
 * const learner = new ContinualLearner(config, { plugins, store: state });
 */
export class PostgresContinualStateStore implements ContinualStateStore {
  private readonly author: string;
  /** Serialises key-version commits of this instance, so concurrent saves do not conflict with each other. */
  private commits: Promise<unknown> = Promise.resolve();

  /** Uses `stateModelId` (a model line holding nothing but continual state) as is. */
  constructor(
    readonly store: AdapterStore,
    readonly stateModelId: string,
    options: ContinualStateStoreOptions = {},
  ) {
    this.author = options.author ?? 'continual-learner';
  }

  /**
   * The state store of `modelId`: finds, or creates on first use, the companion line
   * `<model name>.continual-state` in the model's tenant, so state never moves the model's own head.
   */
  static async forModel(
    store: AdapterStore,
    modelId: string,
    options: ContinualStateStoreOptions = {},
  ): Promise<PostgresContinualStateStore> {
    const model = await store.getModel(modelId);
    const name = stateLineName(model.name, model.id);
    let line = await store.findModel(model.tenantId, name);
    if (!line) {
      try {
        const config: JsonObject = { continualStateOf: model.id };
        line = await store.createModel({ tenantId: model.tenantId, name, config });
      } catch (error) {
        // Another process created it first: use theirs.
        if (!(error instanceof AlreadyExistsError)) throw error;
        line = await store.findModel(model.tenantId, name);
      }
    }
    return PostgresContinualStateStore.ofLine(store, model, line, options);
  }

  /**
   * The state store of `modelId` if one was ever written, without creating it: for readers (a server
   * looking up a version's class prototypes), which must not write on a read path.
   */
  static async existingForModel(
    store: AdapterStore,
    modelId: string,
    options: ContinualStateStoreOptions = {},
  ): Promise<PostgresContinualStateStore | undefined> {
    const model = await store.getModel(modelId);
    const line = await store.findModel(model.tenantId, stateLineName(model.name, model.id));
    return line ? PostgresContinualStateStore.ofLine(store, model, line, options) : undefined;
  }

  /** The store on `line`, which must be `model`'s companion line (a model of that name could be another's). */
  private static ofLine(
    store: AdapterStore,
    model: Model,
    line: Model | undefined,
    options: ContinualStateStoreOptions,
  ): PostgresContinualStateStore {
    const owner = isObject(line?.config) ? line.config.continualStateOf : undefined;
    if (!line || owner !== model.id)
      throw new AlreadyExistsError(store.driver, 'model', stateLineName(model.name, model.id));
    return new PostgresContinualStateStore(store, line.id, options);
  }

  async saveReplay(streamId: string, snapshot: ReplaySnapshot): Promise<void> {
    const stream = await this.replayStream(streamId);
    const { reservoirs, ...rest } = snapshot;
    const entries = Object.entries(reservoirs);
    const header: JsonObject = {
      format: REPLAY_FORMAT,
      streamId,
      snapshot: rest as unknown as JsonObject,
      reservoirs: entries.map(([key, { items, ...counters }]) => ({ key, ...counters, items: items.length })),
    };
    const items = entries.flatMap(([, r], reservoir) =>
      r.items.map((item) => ({ reservoir, item: item as unknown as JsonObject })),
    );
    // A fresh key per save: saves are appended, never deduplicated (saving A, B, A must load A).
    await this.store.recordBatch({
      streamId: stream,
      idempotencyKey: `snapshot:${randomUUID()}`,
      records: [header, ...items],
    });
  }

  async loadReplay(streamId: string): Promise<ReplaySnapshot | undefined> {
    const stream = await this.store.findStream(this.stateModelId, keyName('replay', streamId));
    if (!stream) return undefined;
    const last = await this.lastBatchKey(stream.id);
    if (last === undefined) return undefined;
    const { records } = await this.store.readBatch(stream.id, last);
    const [first, ...rest] = records.map((r) => r.data);
    if (!isObject(first) || first.format !== REPLAY_FORMAT || !Array.isArray(first.reservoirs)) {
      throw new StoreValidationError(
        this.store.driver,
        'replay snapshot',
        `a ${REPLAY_FORMAT} header`,
        first,
      );
    }
    const counters = first.reservoirs as Array<{ key: string; items: number } & JsonObject>;
    const kept: ContinualReplayItem[][] = counters.map(() => []);
    for (const record of rest) {
      const { reservoir, item } = record as { reservoir: number; item: JsonValue };
      const target = kept[reservoir];
      if (!target)
        throw new StoreValidationError(this.store.driver, 'replay record', 'a known reservoir', record);
      target.push(item as unknown as ContinualReplayItem);
    }
    const reservoirs: Record<string, unknown> = {};
    for (const [i, { key, items: count, ...other }] of counters.entries()) {
      if (kept[i]?.length !== count) {
        throw new StoreValidationError(
          this.store.driver,
          `reservoirs.${key}.items`,
          `${count} items`,
          kept[i]?.length,
        );
      }
      reservoirs[key] = { ...other, items: kept[i] };
    }
    return { ...(first.snapshot as object), reservoirs } as ReplaySnapshot;
  }

  async saveRegularization(
    versionKey: string,
    method: string,
    state: ContinualRegularization,
  ): Promise<void> {
    const versionId = await this.keyVersion(versionKey, true);
    // Positional block names: the core's names need not fit the store's alphabet, an anchor and its Fisher
    // share a name, and the store returns blocks sorted by name, which zero-padding makes the saved order.
    const rename = (prefix: string) => (b: TensorBlock, i: number) => ({ ...b, name: positional(prefix, i) });
    await this.store.saveRegularization({
      versionId,
      method,
      meta: {
        versionKey,
        meta: { ...state.meta },
        anchors: state.anchors.map((b) => b.name),
        fisher: state.fisher.map((b) => b.name),
      },
      tensors: [...state.anchors.map(rename('anchor')), ...state.fisher.map(rename('fisher'))],
    });
  }

  async loadRegularization(versionKey: string, method: string): Promise<ContinualRegularization | undefined> {
    const versionId = await this.keyVersion(versionKey, false);
    if (versionId === undefined) return undefined;
    let stored: Awaited<ReturnType<AdapterStore['loadRegularization']>>;
    try {
      stored = await this.store.loadRegularization(versionId, method);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
    const meta = stored.meta as {
      meta: ContinualRegularization['meta'];
      anchors: string[];
      fisher: string[];
    };
    // A state written on this line by another client (not through this class) lacks the name lists.
    if (!Array.isArray(meta.anchors) || !Array.isArray(meta.fisher)) {
      throw new StoreValidationError(
        this.store.driver,
        'regularization meta',
        'anchor and fisher name lists',
        meta,
      );
    }
    const byName = new Map(stored.tensors.map((b) => [b.name, b]));
    const restore = (prefix: string, names: readonly string[]) =>
      names.map((name, i): TensorBlock => {
        const block = byName.get(positional(prefix, i));
        if (!block) throw new NotFoundError(this.store.driver, 'regularization block', positional(prefix, i));
        return { ...block, name };
      });
    return {
      anchors: restore('anchor', meta.anchors),
      fisher: restore('fisher', meta.fisher),
      meta: meta.meta,
    };
  }

  /** The id of the stream holding `streamId`'s snapshots, created on first save. */
  private async replayStream(streamId: string): Promise<string> {
    const name = keyName('replay', streamId);
    const found = await this.store.findStream(this.stateModelId, name);
    if (found) return found.id;
    try {
      return (await this.store.createStream({ modelId: this.stateModelId, name })).id;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      const raced = await this.store.findStream(this.stateModelId, name);
      if (!raced) throw error;
      return raced.id;
    }
  }

  /** Idempotency key of the newest batch of a stream (batches come back in offset order, in pages). */
  private async lastBatchKey(streamId: string): Promise<string | undefined> {
    const limit = 1000;
    let last: { idempotencyKey: string; firstOffset: number; recordCount: number } | undefined;
    for (;;) {
      const fromOffset = last ? last.firstOffset + last.recordCount : 0;
      const page = await this.store.listBatches(streamId, { fromOffset, limit });
      last = page.at(-1) ?? last;
      if (page.length < limit) return last?.idempotencyKey;
    }
  }

  /** The key version of `versionKey`: looked up by alias, committed (empty) and aliased when `create`. */
  private async keyVersion(versionKey: string, create: true): Promise<string>;
  private async keyVersion(versionKey: string, create: false): Promise<string | undefined>;
  private async keyVersion(versionKey: string, create: boolean): Promise<string | undefined> {
    const alias = keyName('key', versionKey);
    const lookup = async () => {
      try {
        return (await this.store.getAlias(this.stateModelId, alias)).versionId;
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    };
    const existing = await lookup();
    if (existing !== undefined || !create) return existing;
    const next = this.commits.then(async () => (await lookup()) ?? this.commitKeyVersion(versionKey, alias));
    this.commits = next.catch(() => undefined);
    return next;
  }

  private async commitKeyVersion(versionKey: string, alias: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const { headVersionId } = await this.store.getModel(this.stateModelId);
      try {
        const { version } = await this.store.commitVersion({
          modelId: this.stateModelId,
          parentId: headVersionId,
          blocks: [],
          lineage: { extra: { versionKey } },
          message: `continual state of ${versionKey.slice(0, 200)}`,
          author: this.author,
        });
        await this.store.createAlias({
          modelId: this.stateModelId,
          name: alias,
          versionId: version.id,
          actor: this.author,
          reason: 'continual-state key version',
        });
        return version.id;
      } catch (error) {
        // Another process committed (rebase) or aliased this very key first (use theirs).
        if (error instanceof AlreadyExistsError) {
          return (await this.store.getAlias(this.stateModelId, alias)).versionId;
        }
        if (!(error instanceof VersionConflictError) || attempt >= COMMIT_ATTEMPTS) throw error;
      }
    }
  }
}

/**
 * A store name for an arbitrary learner key: a readable slug plus 128 bits of its sha256, since learner keys
 * (`run/after-task-0`) may hold characters and lengths the store's names do not allow.
 */
function keyName(kind: 'replay' | 'key', key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 32);
  const slug = key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  return `${kind}.${slug}-${hash}`;
}

/** `<model>.continual-state`, shortened with an id fragment when that would exceed the name limit. */
function stateLineName(modelName: string, modelId: string): string {
  const name = `${modelName}${CONTINUAL_STATE_SUFFIX}`;
  if (name.length <= MAX_NAME) return name;
  const room = MAX_NAME - CONTINUAL_STATE_SUFFIX.length - 9;
  return `${modelName.slice(0, room)}-${modelId.slice(0, 8)}${CONTINUAL_STATE_SUFFIX}`;
}

function positional(prefix: string, index: number): string {
  return `${prefix}/${String(index).padStart(6, '0')}`;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
