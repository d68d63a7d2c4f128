import { describe, expect, it } from 'vitest';
import { IdempotencyConflictError } from '../../src/index.js';
import { freshModel, type HarnessRef } from './harness.js';

const records = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => ({
    id: `${tag}-${i}`,
    x: [i, i / 3, -i - 1],
    label: i % 10,
    text: 'é ü 中文 🙂 "q"',
  }));

/** Ingest ledger, stored records, idempotency, replay reservoir. */
export function ingestContract(h: HarnessRef): void {
  describe('ingest ledger', () => {
    it('acknowledges a 10k-record batch durably, with offsets, checksum and records readable back exactly', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const stream = await store.createStream({ modelId: model.id, name: 'clicks' });
      const batch = records(10_000, 'a');
      const t0 = performance.now();
      const r1 = await store.recordBatch({ streamId: stream.id, idempotencyKey: 'batch-1', records: batch });
      const ms = performance.now() - t0;
      expect(r1).toMatchObject({
        firstOffset: 0,
        recordCount: 10_000,
        status: 'acknowledged',
        replayed: false,
      });
      expect(r1.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(ms).toBeLessThan(10_000);
      const r2 = await store.recordBatch({
        streamId: stream.id,
        idempotencyKey: 'batch-2',
        records: records(5, 'b'),
      });
      expect(r2.firstOffset).toBe(10_000);
      expect((await store.getStream(stream.id)).nextOffset).toBe(10_005);
      const { receipt, records: back } = await store.readBatch(stream.id, 'batch-1');
      expect(receipt.batchId).toBe(r1.batchId);
      expect(back.map((r) => r.data)).toEqual(batch);
      expect(back.map((r) => r.offset)).toEqual(batch.map((_, i) => i));
      const page = await store.readRecords(stream.id, { fromOffset: 9_998, limit: 4 });
      expect(page.map((r) => r.offset)).toEqual([9_998, 9_999, 10_000, 10_001]);
      expect((await store.listBatches(stream.id)).map((b) => b.idempotencyKey)).toEqual([
        'batch-1',
        'batch-2',
      ]);
      expect((await store.setBatchStatus(stream.id, 'batch-1', 'consumed')).status).toBe('consumed');
    });

    it('keeps a pending batch out of replay until acknowledged, and acknowledges it exactly once', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const stream = await store.createStream({ modelId: model.id, name: 'pending' });
      await store.configureReplay(stream.id, { capacity: 50, seed: 1 });
      const input = {
        streamId: stream.id,
        idempotencyKey: 'p-1',
        records: records(20, 'p'),
        sampleReplay: true,
      };
      const stored = await store.recordBatch({ ...input, pending: true });
      expect(stored.status).toBe('pending');
      expect((await store.replayState(stream.id)).seen).toBe(0);
      expect((await store.readRecords(stream.id)).length).toBe(20); // durable, just not acknowledged
      // A retry replays the pending batch (same receipt, still pending), then acknowledges it.
      const again = await store.recordBatch({ ...input, pending: true });
      expect(again).toMatchObject({ batchId: stored.batchId, replayed: true, status: 'pending' });
      const acked = await store.acknowledgeBatch(stream.id, 'p-1', { sampleReplay: true });
      expect(acked.status).toBe('acknowledged');
      const state = await store.replayState(stream.id);
      expect(state.seen).toBe(20);
      const items = (await store.loadReplay(stream.id)).map((i) => i.item);
      expect(items).toEqual(records(20, 'p'));
      // Idempotent: a second acknowledgement offers nothing again.
      expect((await store.acknowledgeBatch(stream.id, 'p-1', { sampleReplay: true })).status).toBe(
        'acknowledged',
      );
      expect((await store.replayState(stream.id)).seen).toBe(20);
      await expect(store.acknowledgeBatch(stream.id, 'absent')).rejects.toMatchObject({ code: 'not_found' });
    });

    it('a replayed key returns the first receipt and stores nothing twice; a changed payload is a conflict', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const stream = await store.createStream({ modelId: model.id, name: 's' });
      const first = await store.recordBatch({
        streamId: stream.id,
        idempotencyKey: 'k-1',
        records: records(100, 'x'),
      });
      const again = await store.recordBatch({
        streamId: stream.id,
        idempotencyKey: 'k-1',
        records: records(100, 'x'),
      });
      expect(again).toEqual({ ...first, replayed: true });
      expect((await store.getStream(stream.id)).nextOffset).toBe(100);
      await expect(
        store.recordBatch({ streamId: stream.id, idempotencyKey: 'k-1', records: records(100, 'y') }),
      ).rejects.toBeInstanceOf(IdempotencyConflictError);
      const count = await h().exec(
        `select count(*)::int as n from stream_records where stream_id = '${stream.id}'`,
      );
      expect(Number(count[0]?.n)).toBe(100);
    });

    it('racing requests with one key get one receipt; racing keys get disjoint, dense offsets', async () => {
      const { store } = h();
      const other = await h().openAnother();
      try {
        const { model } = await freshModel(store);
        const stream = await store.createStream({ modelId: model.id, name: 's' });
        const same = await Promise.all(
          [store, other, store, other].map((s) =>
            s.recordBatch({ streamId: stream.id, idempotencyKey: 'dup', records: records(500, 'd') }),
          ),
        );
        expect(new Set(same.map((r) => r.batchId)).size).toBe(1);
        expect(same.filter((r) => !r.replayed)).toHaveLength(1);
        const distinct = await Promise.all(
          [1, 2, 3, 4].map((i) =>
            (i % 2 ? store : other).recordBatch({
              streamId: stream.id,
              idempotencyKey: `k${i}`,
              records: records(100 * i, `k${i}`),
            }),
          ),
        );
        const ranges = distinct
          .map((r) => [r.firstOffset, r.firstOffset + r.recordCount])
          .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
        let next = 500;
        for (const [from, to] of ranges) {
          expect(from).toBe(next);
          next = to ?? next;
        }
        expect(next).toBe(1500);
        const count = await h().exec(
          `select count(*)::int as n from stream_records where stream_id = '${stream.id}'`,
        );
        expect(Number(count[0]?.n)).toBe(1500);
      } finally {
        await other.close();
      }
    });
  });

  describe('replay reservoir', () => {
    it('keeps a bounded, seeded, restart-proof sample (Algorithm R), also filled by recordBatch', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const a = await store.createStream({ modelId: model.id, name: 'a' });
      const b = await store.createStream({ modelId: model.id, name: 'b' });
      await store.configureReplay(a.id, { capacity: 50, seed: 42 });
      await store.configureReplay(b.id, { capacity: 50, seed: 42 });
      const items = Array.from({ length: 1000 }, (_, i) => ({ i }));
      // Stream a: in uneven pieces, reopening the store in between (a "restart").
      await store.offerReplay(a.id, items.slice(0, 30));
      const reopened = await h().openAnother();
      await reopened.offerReplay(a.id, items.slice(30, 400));
      await reopened.close();
      const state = await store.offerReplay(a.id, items.slice(400));
      expect(state).toEqual({ streamId: a.id, capacity: 50, seen: 1000, size: 50 });
      // Stream b: everything at once. Same seed → same reservoir.
      await store.offerReplay(b.id, items);
      const ra = await store.loadReplay(a.id);
      const rb = await store.loadReplay(b.id);
      expect(ra).toHaveLength(50);
      expect(ra).toEqual(rb);
      expect(ra.every((r) => (r.item as { i: number }).i === r.sourceIndex)).toBe(true);
      expect(ra.some((r) => r.sourceIndex >= 50)).toBe(true);
      await expect(store.configureReplay(a.id, { capacity: 60, seed: 42 })).rejects.toThrow(/already exists/);

      const c = await store.createStream({ modelId: model.id, name: 'c' });
      await store.configureReplay(c.id, { capacity: 20, seed: 7 });
      await store.recordBatch({
        streamId: c.id,
        idempotencyKey: 'r1',
        records: records(300, 'c'),
        sampleReplay: true,
      });
      await store.recordBatch({
        streamId: c.id,
        idempotencyKey: 'r1',
        records: records(300, 'c'),
        sampleReplay: true,
      });
      expect(await store.replayState(c.id)).toMatchObject({ seen: 300, size: 20 });
    });
  });
}
