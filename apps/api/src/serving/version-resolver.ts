import {
  type AdapterStore,
  ALIAS_CHANNEL,
  type AliasNotification,
  NotFoundError,
  type Version,
} from '@peer/adapter-store';
import { ApiError } from '../http/api-error.js';
import { logger } from '../observability/logger.js';

/**
 * How long a model's head is trusted before the model row is re-read (in the background: requests keep
 * using the cached head meanwhile). Training jobs commit new heads without a notification, so an unpinned
 * predict may serve the previous head for about this long; pin a version or use an alias for exactness.
 */
export const HEAD_TTL_MS = 1_000;

/**
 * How long an alias is trusted without re-reading it. Moves arrive by LISTEN/NOTIFY within milliseconds;
 * this only bounds staleness when a notification is lost (delivery is at most once, e.g. across a
 * reconnect of the listening connection).
 */
export const ALIAS_TTL_MS = 30_000;

/** What serving needs of a model row; tenant and kind never change, the head does. */
export interface ServedModel {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: 'model' | 'adapter';
  headVersionId: string | null;
  checkedAt: number;
}

/** Which version a request asked for: a pinned id, an alias, or (neither) the model's head. */
export interface VersionRef {
  readonly version?: string | undefined;
  readonly alias?: string | undefined;
}

interface AliasEntry {
  versionId: string | null;
  at: number;
}

/**
 * Resolves version / alias / head to an immutable version row from memory. Version rows never change and
 * are cached for good; aliases are updated by notifications on `ALIAS_CHANNEL` (PostgreSQL LISTEN/NOTIFY,
 * or PGlite's in-process delivery of the same statement) and by this process's own moves; heads are
 * re-read after `HEAD_TTL_MS`. On a hit no database query runs.
 */
export class VersionResolver {
  private readonly models = new Map<string, ServedModel>();
  private readonly versions = new Map<string, Version>();
  private readonly aliases = new Map<string, AliasEntry>();
  /** Bumped by every alias change, so a read that started before a change cannot overwrite it. */
  private aliasGeneration = 0;
  private readonly pending = new Map<string, Promise<unknown>>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: AdapterStore,
    private readonly onAliasMoved: (change: AliasNotification) => void = () => {},
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Subscribes to alias notifications; without them, aliases are only refreshed by their TTL. */
  async start(): Promise<void> {
    try {
      this.unlisten = await this.store.listen(ALIAS_CHANNEL, (payload) => this.onNotification(payload));
    } catch (error) {
      logger.warn('alias notifications unavailable; aliases refresh by TTL only', { error });
    }
  }

  /**
   * The model if it exists, is a base model and belongs to `tenantId`; 404 otherwise (no cross-tenant
   * probe). A stale head is refreshed in the background while this request uses the cached one, so no
   * request waits for the database once the model is known.
   */
  async model(modelId: string, tenantId: string): Promise<ServedModel> {
    let model = this.models.get(modelId);
    if (!model) model = await this.refreshModel(modelId);
    else if (this.now() - model.checkedAt > HEAD_TTL_MS) {
      this.refreshModel(modelId).catch((error: unknown) =>
        logger.warn('head refresh failed', { modelId, error }),
      );
    }
    if (model?.kind !== 'model' || model.tenantId !== tenantId) throw ApiError.notFound('model', modelId);
    return model;
  }

  /** The version a request names, checked to belong to `model`. */
  async resolve(model: ServedModel, ref: VersionRef): Promise<Version> {
    if (ref.version !== undefined && ref.alias !== undefined) {
      throw ApiError.invalidField('alias', 'absent when version is given (pin one or the other)', ref.alias);
    }
    let versionId: string | null;
    if (ref.version !== undefined) versionId = ref.version;
    else if (ref.alias !== undefined) versionId = await this.aliasTarget(model.id, ref.alias);
    else versionId = model.headVersionId;
    if (versionId === null) {
      if (ref.alias !== undefined) throw ApiError.notFound('alias', ref.alias);
      throw new ApiError(409, 'conflict', `model ${model.id} has no version yet`);
    }
    const version = await this.version(versionId);
    if (version.modelId !== model.id) throw ApiError.notFound('version', versionId);
    return version;
  }

  /** A version row (immutable, so cached for good). */
  async version(versionId: string): Promise<Version> {
    const cached = this.versions.get(versionId);
    if (cached) return cached;
    const version = await this.once(`v:${versionId}`, () => this.store.getVersion(versionId));
    if (this.versions.size > 10_000) this.versions.clear(); // bounded: rows carry metrics
    this.versions.set(versionId, version);
    return version;
  }

  /** Records an alias change made or observed by this process (its notification may come later). */
  noteAlias(change: AliasNotification): void {
    this.aliasGeneration++;
    const key = aliasKey(change.modelId, change.name);
    const previous = this.aliases.get(key);
    this.aliases.set(key, { versionId: change.versionId, at: this.now() });
    // Only aliases this replica has served are worth preloading.
    if (previous && previous.versionId !== change.versionId) this.onAliasMoved(change);
  }

  /** Forgets the cached head of a model, so the next request reads it (call after a commit in this process). */
  invalidateHead(modelId: string): void {
    this.models.delete(modelId);
  }

  async close(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  private onNotification(payload: string): void {
    let change: AliasNotification;
    try {
      change = JSON.parse(payload) as AliasNotification;
    } catch {
      return;
    }
    if (typeof change?.modelId !== 'string' || typeof change.name !== 'string') return;
    if (typeof change.versionId !== 'string') return;
    this.noteAlias(change);
  }

  private async aliasTarget(modelId: string, name: string): Promise<string | null> {
    const key = aliasKey(modelId, name);
    const cached = this.aliases.get(key);
    if (cached?.versionId === null && this.now() - cached.at <= HEAD_TTL_MS) return null;
    if (cached && cached.versionId !== null) {
      if (this.now() - cached.at > ALIAS_TTL_MS) {
        // Stale only if a notification was lost: re-read in the background, answer from memory now.
        this.readAlias(modelId, name).catch((error: unknown) =>
          logger.warn('alias refresh failed', { key, error }),
        );
      }
      return cached.versionId;
    }
    return this.readAlias(modelId, name);
  }

  private async readAlias(modelId: string, name: string): Promise<string | null> {
    const key = aliasKey(modelId, name);
    const generation = this.aliasGeneration;
    const versionId = await this.once(`a:${key}`, async () => {
      try {
        return (await this.store.getAlias(modelId, name)).versionId;
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    });
    // A notification that arrived meanwhile is newer than what this read saw.
    if (generation === this.aliasGeneration) this.aliases.set(key, { versionId, at: this.now() });
    return this.aliases.get(key)?.versionId ?? versionId;
  }

  private async refreshModel(modelId: string): Promise<ServedModel | undefined> {
    const row = await this.once(`m:${modelId}`, async () => {
      try {
        return await this.store.getModel(modelId);
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
    });
    if (!row) return undefined;
    const model: ServedModel = {
      id: row.id,
      tenantId: row.tenantId,
      kind: row.kind,
      headVersionId: row.headVersionId,
      checkedAt: this.now(),
    };
    if (this.models.size > 100_000) this.models.clear(); // bounded: ids are probed by clients
    this.models.set(modelId, model);
    return model;
  }

  /** Single flight: concurrent callers of one key share one query. */
  private once<T>(key: string, run: () => Promise<T>): Promise<T> {
    const running = this.pending.get(key) as Promise<T> | undefined;
    if (running) return running;
    const started = run().finally(() => this.pending.delete(key));
    this.pending.set(key, started);
    return started;
  }
}

function aliasKey(modelId: string, name: string): string {
  return `${modelId}/${name}`;
}
