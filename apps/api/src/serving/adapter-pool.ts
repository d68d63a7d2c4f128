import type { AdapterKey, AdapterStore } from '@peer/adapter-store';
import { logger } from '../observability/logger.js';
import { AdapterSet, type HeadInfo } from './adapter-set.js';
import type { Lease } from './model-cache.js';
import { ADAPTER_CHANNEL, isRemoved } from './stored-adapter.js';

/**
 * How long a model's adapter set is trusted before its heads are re-listed. Uploads and removals announce
 * themselves on `ADAPTER_CHANNEL`; this bounds staleness for writers that do not (a training job).
 */
export const ADAPTER_TTL_MS = 5_000;

interface PoolEntry {
  current: AdapterSet | undefined;
  building: Promise<AdapterSet> | undefined;
  checkedAt: number;
  invalidated: boolean;
}

/**
 * Adapter sets per base model, loaded on first use. `invalidate` (local writes, `ADAPTER_CHANNEL`
 * notifications) forces a rebuild; otherwise the heads are re-listed after `ADAPTER_TTL_MS` and the set
 * rebuilt only if one changed.
 */
export class AdapterPools {
  private readonly entries = new Map<string, PoolEntry>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly store: AdapterStore,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async start(): Promise<void> {
    try {
      this.unlisten = await this.store.listen(ADAPTER_CHANNEL, (payload) => {
        const modelId = (JSON.parse(payload) as { modelId?: unknown }).modelId;
        if (typeof modelId === 'string') this.invalidate(modelId);
      });
    } catch (error) {
      logger.warn('adapter notifications unavailable; adapters refresh by TTL only', { error });
    }
  }

  /** The current adapter set of a model, held until `release()`. */
  async acquire(modelId: string): Promise<Lease<AdapterSet>> {
    const set = await this.current(modelId);
    set.refs++;
    let released = false;
    return {
      value: set,
      release: () => {
        if (released) return;
        released = true;
        set.refs--;
        if (set.retired && set.refs === 0) set.dispose();
      },
    };
  }

  /** Marks a model's adapters changed: the next request rebuilds its set. */
  invalidate(modelId: string): void {
    const entry = this.entries.get(modelId);
    if (entry) entry.invalidated = true;
  }

  async close(): Promise<void> {
    await this.unlisten?.();
    this.unlisten = undefined;
    for (const entry of this.entries.values()) if (entry.current) this.retire(entry.current);
    this.entries.clear();
  }

  private async current(modelId: string): Promise<AdapterSet> {
    let entry = this.entries.get(modelId);
    if (!entry) {
      entry = { current: undefined, building: undefined, checkedAt: 0, invalidated: true };
      this.entries.set(modelId, entry);
    }
    const { current, invalidated } = entry;
    if (current && !invalidated && this.now() - entry.checkedAt <= ADAPTER_TTL_MS) return current;
    entry.building ??= this.rebuild(modelId, entry).finally(() => {
      if (entry) entry.building = undefined;
    });
    const building = entry.building;
    if (current && !invalidated) {
      // Only the TTL ran out (no change was announced): re-check in the background, serve the current set.
      building.catch((error: unknown) => logger.warn('adapter refresh failed', { modelId, error }));
      return current;
    }
    return building;
  }

  private async rebuild(modelId: string, entry: PoolEntry): Promise<AdapterSet> {
    entry.invalidated = false;
    const heads = await this.heads(await this.store.listAdapterKeys(modelId));
    const previous = entry.current;
    entry.checkedAt = this.now();
    if (previous && !entry.invalidated && sameHeads(previous.heads, heads)) return previous;
    const set = new AdapterSet(this.store, heads);
    try {
      await set.load();
    } catch (error) {
      set.dispose();
      throw error;
    }
    entry.current = set;
    if (previous && previous !== set) this.retire(previous);
    return set;
  }

  private async heads(keys: readonly AdapterKey[]): Promise<Map<string, HeadInfo>> {
    const heads = new Map<string, HeadInfo>();
    for (const key of keys) {
      const version = await this.store.getVersion(key.versionId);
      heads.set(key.name, {
        adapterId: key.adapterId,
        versionId: key.versionId,
        removed: isRemoved(version),
      });
    }
    return heads;
  }

  private retire(set: AdapterSet): void {
    set.retired = true;
    if (set.refs === 0) set.dispose();
  }
}

function sameHeads(a: ReadonlyMap<string, HeadInfo>, b: ReadonlyMap<string, HeadInfo>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, head] of a) if (b.get(name)?.versionId !== head.versionId) return false;
  return true;
}
