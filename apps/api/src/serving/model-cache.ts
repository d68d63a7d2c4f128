/** What the cache holds: anything with a `dispose()` (a `PeerClassifier` in production). */
export interface Disposable {
  dispose(): void;
}

/** A loaded value held for one request; `release()` (idempotent) lets the cache dispose it once evicted. */
export interface Lease<T> {
  readonly value: T;
  release(): void;
}

interface Entry<T> {
  readonly key: string;
  readonly bytes: number;
  readonly loading: Promise<T>;
  value: T | undefined;
  refs: number;
  /** Out of the cache: disposed as soon as no lease holds it. */
  evicted: boolean;
}

/** Counters of a cache, for metrics and tests. */
export interface CacheStats {
  readonly loads: number;
  readonly hits: number;
  readonly evictions: number;
  readonly entries: number;
  readonly residentBytes: number;
}

/**
 * Loaded models keyed by version **content hash** (DESIGN §7: two versions with equal content share one
 * model, and a name can never serve stale weights). Least-recently-used entries are evicted beyond
 * `budgetBytes`; an evicted model still leased by a request is disposed when its last lease is released.
 * Concurrent requests for one uncached key share a single load (single flight); a failed load is not
 * cached, so the next request retries.
 */
export class ModelCache<T extends Disposable> {
  /** Insertion order is recency order: a hit re-inserts its entry at the end. */
  private readonly entries = new Map<string, Entry<T>>();
  private resident = 0;
  private loads = 0;
  private hits = 0;
  private evictions = 0;

  constructor(private readonly budgetBytes: number) {}

  /**
   * The value of `key`, loading it with `load` when absent. `bytes` is its size estimate for the budget
   * (a version's total block bytes). The caller must release the lease when done.
   */
  async lease(key: string, bytes: number, load: () => Promise<T>): Promise<Lease<T>> {
    let entry = this.entries.get(key);
    if (entry) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, entry);
    } else {
      this.loads++;
      entry = this.startLoad(key, bytes, load);
    }
    // Held before awaiting: an eviction during the load must not dispose what this request waits for.
    entry.refs++;
    let value: T;
    try {
      value = await entry.loading;
    } catch (error) {
      entry.refs--;
      throw error;
    }
    return this.leaseOf(entry, value);
  }

  /** Counters and sizes now. */
  stats(): CacheStats {
    return {
      loads: this.loads,
      hits: this.hits,
      evictions: this.evictions,
      entries: this.entries.size,
      residentBytes: this.resident,
    };
  }

  /** Whether `key` is cached (loaded or loading). */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** Evicts everything; leased values are disposed on their last release. */
  dispose(): void {
    for (const entry of [...this.entries.values()]) this.evict(entry);
  }

  private startLoad(key: string, bytes: number, load: () => Promise<T>): Entry<T> {
    const entry: Entry<T> = {
      key,
      bytes,
      loading: Promise.resolve().then(load),
      value: undefined,
      refs: 0,
      evicted: false,
    };
    entry.loading.then(
      (value) => {
        entry.value = value;
        this.disposeIfUnused(entry);
      },
      () => {
        // A failed load leaves nothing behind: the next request tries again.
        if (this.entries.get(key) === entry) {
          this.entries.delete(key);
          this.resident -= entry.bytes;
        }
      },
    );
    this.entries.set(key, entry);
    this.resident += bytes;
    this.shrink(entry);
    return entry;
  }

  private leaseOf(entry: Entry<T>, value: T): Lease<T> {
    let released = false;
    return {
      value,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        this.disposeIfUnused(entry);
      },
    };
  }

  /** Evicts least recently used entries (never `keep`) until the budget holds. */
  private shrink(keep: Entry<T>): void {
    for (const entry of this.entries.values()) {
      if (this.resident <= this.budgetBytes) return;
      if (entry !== keep) this.evict(entry);
    }
  }

  private evict(entry: Entry<T>): void {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    this.resident -= entry.bytes;
    this.evictions++;
    entry.evicted = true;
    this.disposeIfUnused(entry);
  }

  private disposeIfUnused(entry: Entry<T>): void {
    if (!entry.evicted || entry.refs > 0 || entry.value === undefined) return;
    const { value } = entry;
    entry.value = undefined;
    value.dispose();
  }
}
