import { type AdapterStore, NotFoundError } from '@peer/adapter-store';
import { AdapterRegistry, type LoraAdapter } from '@peer/core';
import { ApiError } from '../http/api-error.js';
import { isRemoved, loraFromStored } from './stored-adapter.js';

/** One adapter as served: which stored version it is and its core adapter. */
export interface ServedAdapter {
  readonly adapterId: string;
  readonly name: string;
  readonly versionId: string;
  readonly seq: number;
  readonly adapter: LoraAdapter;
}

/** The head of one adapter line when the set was built. */
export interface HeadInfo {
  readonly adapterId: string;
  readonly versionId: string;
  readonly removed: boolean;
}

/**
 * The adapters of one base model at one moment: every live head loaded into an `AdapterRegistry`, plus
 * older versions loaded when a request pins one. Immutable apart from those additions; replaced (and
 * disposed once no request holds it) when the adapters change.
 */
export class AdapterSet {
  readonly registry = new AdapterRegistry();
  private readonly byName = new Map<string, ServedAdapter>();
  private readonly pinned = new Map<string, Promise<ServedAdapter>>();
  refs = 0;
  retired = false;

  constructor(
    private readonly store: AdapterStore,
    readonly heads: ReadonlyMap<string, HeadInfo>,
  ) {}

  /** Loads every live head (tombstoned adapters are kept out). */
  async load(): Promise<void> {
    for (const [name, head] of this.heads) {
      if (head.removed) continue;
      this.add(name, await this.store.loadAdapterVersion(head.versionId));
    }
  }

  /** Live heads with a retrieval key: the candidates of `auto`. */
  candidates(): ServedAdapter[] {
    return [...this.byName.values()].filter((a) => a.adapter.key !== null);
  }

  /** The named adapter: its head, or the version given by sequence number or id. 404 when absent or removed. */
  async choose(name: string, version?: number | string): Promise<ServedAdapter> {
    const served = this.byName.get(name);
    if (version === undefined || (served && (served.seq === version || served.versionId === version))) {
      if (!served) throw ApiError.notFound('adapter', name);
      return served;
    }
    const head = this.heads.get(name);
    if (!head) throw ApiError.notFound('adapter', name);
    const key = `${name}@${version}`;
    let loading = this.pinned.get(key);
    if (!loading) {
      loading = this.loadPinned(name, head.adapterId, version);
      this.pinned.set(key, loading);
      loading.catch(() => this.pinned.delete(key));
    }
    return loading;
  }

  dispose(): void {
    this.registry.dispose();
    this.byName.clear();
  }

  private add(name: string, stored: Awaited<ReturnType<AdapterStore['loadAdapterVersion']>>): ServedAdapter {
    const adapter = loraFromStored(stored);
    this.registry.add(adapter);
    const served = {
      adapterId: stored.adapterId,
      name,
      versionId: stored.version.id,
      seq: stored.version.seq,
      adapter,
    };
    if (this.heads.get(name)?.versionId === stored.version.id) this.byName.set(name, served);
    return served;
  }

  private async loadPinned(
    name: string,
    adapterId: string,
    version: number | string,
  ): Promise<ServedAdapter> {
    let versionId = typeof version === 'string' ? version : undefined;
    if (typeof version === 'number') {
      versionId = (await this.store.listVersions(adapterId)).find((v) => v.seq === version)?.id;
    }
    const stored = versionId
      ? await this.store.loadAdapterVersion(versionId).catch((error: unknown) => {
          if (error instanceof NotFoundError) return undefined;
          throw error;
        })
      : undefined;
    if (!stored || stored.adapterId !== adapterId || isRemoved(stored.version)) {
      throw ApiError.notFound('adapter version', `${name}@${version}`);
    }
    // Another request may have registered it meanwhile.
    const label = String(stored.version.seq);
    if (this.registry.all().some((a) => a.name === name && a.version === label)) {
      const adapter = this.registry.get(name, label);
      return { adapterId, name, versionId: stored.version.id, seq: stored.version.seq, adapter };
    }
    return this.add(name, stored);
  }
}
