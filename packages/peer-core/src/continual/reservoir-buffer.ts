import { PeerConfigError } from '../errors/peer-error.js';
import type { ReplayItem, ReplaySnapshot, ReservoirSnapshot } from './state-store.js';

/** mulberry32 with its whole state in one uint32, so a persisted buffer resumes with the same draws. */
class StatefulRandom {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  }
}

/** Settings of a {@link ReservoirBuffer}. */
export interface ReservoirBufferOptions {
  /**
   * Items kept: in total, or per class label when `classBalanced` (van de Ven et al. 2020 store
   * "100 examples per class" for Split MNIST; a per-class reservoir keeps that balance on any stream).
   */
  readonly capacity: number;
  readonly classBalanced?: boolean;
  readonly seed?: number;
}

/**
 * A bounded replay buffer by reservoir sampling (Vitter 1985, Algorithm R): after `t` offered items each of
 * them is kept with probability `capacity / t`, whatever the order and however the offers are batched.
 * Class-balanced mode runs one reservoir per label. The state is plain data ({@link ReplaySnapshot}).
 *
 * @example
 * const buffer = new ReservoirBuffer({ capacity: 100, classBalanced: true, seed: 1 });
 * buffer.offer({ x: [0.1, 0.2], y: 3, task: 1 });
 */
export class ReservoirBuffer {
  readonly capacity: number;
  readonly classBalanced: boolean;
  private readonly rng: StatefulRandom;
  private readonly reservoirs = new Map<string, { seen: number; items: ReplayItem[] }>();

  constructor(options: ReservoirBufferOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new PeerConfigError('capacity', 'an integer >= 1', options.capacity);
    }
    this.capacity = options.capacity;
    this.classBalanced = options.classBalanced ?? false;
    this.rng = new StatefulRandom(options.seed ?? 0);
  }

  /** Rebuilds a buffer from a snapshot; later offers and samples continue exactly as the original's would. */
  static fromSnapshot(snapshot: ReplaySnapshot): ReservoirBuffer {
    const first = Object.values(snapshot.reservoirs)[0];
    const buffer = new ReservoirBuffer({
      capacity: first?.capacity ?? 1,
      classBalanced: snapshot.classBalanced,
      seed: snapshot.rngState,
    });
    for (const [key, r] of Object.entries(snapshot.reservoirs)) {
      if (r.capacity !== buffer.capacity)
        throw new PeerConfigError(`reservoirs.${key}.capacity`, `${buffer.capacity}`, r.capacity);
      buffer.reservoirs.set(key, {
        seen: r.seen,
        items: r.items.map((item) => ({ ...item, x: [...item.x] })),
      });
    }
    return buffer;
  }

  /** Items currently kept. */
  get size(): number {
    let n = 0;
    for (const r of this.reservoirs.values()) n += r.items.length;
    return n;
  }

  /** Offers one item (Algorithm R step): kept outright while there is room, else replaces slot j < capacity. */
  offer(item: ReplayItem): void {
    this.offerLazy(item.y, () => item);
  }

  /** {@link offer} that builds the item only if it is kept (most offers of a long stream are not). */
  offerLazy(label: number, make: () => ReplayItem): void {
    const key = this.classBalanced ? String(label) : 'all';
    let reservoir = this.reservoirs.get(key);
    if (!reservoir) {
      reservoir = { seen: 0, items: [] };
      this.reservoirs.set(key, reservoir);
    }
    const t = reservoir.seen++;
    if (t < this.capacity) {
      reservoir.items.push(make());
      return;
    }
    const j = this.rng.int(t + 1); // uniform in [0, t]
    if (j < this.capacity) reservoir.items[j] = make();
  }

  /** Every kept item (reservoirs in key order). */
  items(): ReplayItem[] {
    return [...this.reservoirs.keys()].sort().flatMap((k) => this.reservoirs.get(k)?.items ?? []);
  }

  /** `count` items drawn uniformly with replacement from the kept ones (empty when the buffer is). */
  sample(count: number): ReplayItem[] {
    const all = this.items();
    if (all.length === 0) return [];
    return Array.from({ length: count }, () => all[this.rng.int(all.length)] as ReplayItem);
  }

  /** The buffer as plain JSON data. */
  snapshot(): ReplaySnapshot {
    const reservoirs: Record<string, ReservoirSnapshot> = {};
    for (const key of [...this.reservoirs.keys()].sort()) {
      const r = this.reservoirs.get(key);
      if (r)
        reservoirs[key] = {
          seen: r.seen,
          capacity: this.capacity,
          items: r.items.map((i) => ({ ...i, x: [...i.x] })),
        };
    }
    return { kind: 'reservoir', classBalanced: this.classBalanced, rngState: this.rng.state, reservoirs };
  }
}
