import { describe, expect, it } from 'vitest';
import { ModelCache } from './model-cache.js';

class Fake {
  disposed = false;
  constructor(readonly name: string) {}
  dispose(): void {
    if (this.disposed) throw new Error(`${this.name} disposed twice`);
    this.disposed = true;
  }
}

/** A load whose completion the test controls. */
function deferred(name: string) {
  let resolve: (v: Fake) => void = () => {};
  let reject: (e: unknown) => void = () => {};
  const promise = new Promise<Fake>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve: () => resolve(new Fake(name)), reject };
}

describe('ModelCache', () => {
  it('shares one load among concurrent requests for the same content hash', async () => {
    const cache = new ModelCache<Fake>(100);
    const load = deferred('a');
    let loads = 0;
    const loader = () => {
      loads++;
      return load.promise;
    };
    const leases = Promise.all([
      cache.lease('a', 10, loader),
      cache.lease('a', 10, loader),
      cache.lease('a', 10, loader),
    ]);
    load.resolve();
    const [l1, l2, l3] = await leases;
    expect(loads).toBe(1);
    expect(l1?.value).toBe(l2?.value);
    expect(l2?.value).toBe(l3?.value);
    expect(cache.stats()).toMatchObject({ loads: 1, hits: 2, entries: 1, residentBytes: 10 });
  });

  it('evicts the least recently used beyond the byte budget, disposing only unused models', async () => {
    const cache = new ModelCache<Fake>(25);
    const a = await cache.lease('a', 10, async () => new Fake('a'));
    const b = await cache.lease('b', 10, async () => new Fake('b'));
    b.release();
    a.release();
    (await cache.lease('a', 10, async () => new Fake('a2'))).release(); // a is now the most recent
    const c = await cache.lease('c', 10, async () => new Fake('c'));
    expect(cache.has('b')).toBe(false); // b was least recently used
    expect(b.value.disposed).toBe(true);
    expect(a.value.disposed).toBe(false);
    expect(cache.stats()).toMatchObject({ entries: 2, residentBytes: 20, evictions: 1 });
    c.release();
  });

  it('keeps an evicted model alive until its last lease is released', async () => {
    const cache = new ModelCache<Fake>(15);
    const a = await cache.lease('a', 10, async () => new Fake('a'));
    const again = await cache.lease('a', 10, async () => new Fake('never'));
    const b = await cache.lease('b', 10, async () => new Fake('b')); // over budget: a is evicted while in use
    expect(cache.has('a')).toBe(false);
    expect(a.value.disposed).toBe(false);
    a.release();
    a.release(); // idempotent
    expect(a.value.disposed).toBe(false);
    again.release();
    expect(a.value.disposed).toBe(true);
    b.release();
    expect(b.value.disposed).toBe(false); // still cached
    cache.dispose();
    expect(b.value.disposed).toBe(true);
  });

  it('does not cache a failed load: every waiter gets the error and the next request retries', async () => {
    const cache = new ModelCache<Fake>(100);
    const load = deferred('x');
    const waiting = [cache.lease('x', 10, () => load.promise), cache.lease('x', 10, () => load.promise)];
    load.reject(new Error('corrupt block'));
    for (const w of waiting) await expect(w).rejects.toThrow('corrupt block');
    expect(cache.stats()).toMatchObject({ entries: 0, residentBytes: 0 });
    const retry = await cache.lease('x', 10, async () => new Fake('x'));
    expect(retry.value.name).toBe('x');
  });

  it('disposes a model evicted while it was still loading once its requests are done', async () => {
    const cache = new ModelCache<Fake>(10);
    const slow = deferred('slow');
    const pending = cache.lease('slow', 10, () => slow.promise);
    const other = await cache.lease('other', 10, async () => new Fake('other')); // evicts 'slow' mid-load
    slow.resolve();
    const lease = await pending;
    expect(lease.value.disposed).toBe(false);
    lease.release();
    expect(lease.value.disposed).toBe(true);
    other.release();
  });
});
