import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../../src/index.js';
import { smallBlock, tableBlocks } from '../helpers/layer.js';
import { freshModel, type HarnessRef } from './harness.js';

/** Optimistic concurrency: committing on a stale head is a typed conflict, never a lost update. */
export function conflictContract(h: HarnessRef): void {
  describe('concurrency', () => {
    it('two writers committing on the same parent at the same time: exactly one wins', async () => {
      const { store } = h();
      const other = await h().openAnother();
      try {
        const { model } = await freshModel(store);
        const v1 = await store.commitVersion({
          modelId: model.id,
          parentId: null,
          blocks: [smallBlock('a', 1)],
        });
        // Several COPY rounds each, so the two transactions overlap on PostgreSQL.
        const write = (s: typeof store, seed: number) =>
          s.commitVersion({
            modelId: model.id,
            parentId: v1.version.id,
            blocks: tableBlocks({ table: `w${seed}`, endRow: 512, rowsPerBlock: 64, rowWidth: 256, seed }),
            message: `writer ${seed}`,
          });
        const results = await Promise.allSettled([write(store, 1), write(other, 2)]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        const error = (lost[0] as PromiseRejectedResult).reason;
        expect(error).toBeInstanceOf(VersionConflictError);
        const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof store.commitVersion>>>)
          .value;
        expect(error).toMatchObject({
          expectedId: v1.version.id,
          actualId: winner.version.id,
          modelId: model.id,
        });
        expect((await store.getModel(model.id)).headVersionId).toBe(winner.version.id);
        expect((await store.listVersions(model.id)).map((v) => v.seq)).toEqual([1, 2]);
        // The loser's blocks were rolled back with its transaction: nothing to collect, nothing half-visible.
        const loserTable = winner.version.message === 'writer 1' ? 'w2' : 'w1';
        const stray = await h().exec(
          `select count(*)::int as n from version_blocks where name like '${loserTable}.%'`,
        );
        expect(Number(stray[0]?.n)).toBe(0);
      } finally {
        await other.close();
      }
    });

    it('concurrent commits of the same new bytes on different models both succeed, storing them once', async () => {
      const { store } = h();
      const other = await h().openAnother();
      try {
        const a = await freshModel(store);
        const b = await freshModel(store);
        // Identical content, several COPY rounds: on PostgreSQL the second inserter of a hash waits for the
        // first transaction, gets a unique violation and takes the staging + ON CONFLICT DO NOTHING path.
        const same = () =>
          tableBlocks({ table: 'shared', endRow: 512, rowsPerBlock: 64, rowWidth: 256, seed: 4242 });
        const [ra, rb] = await Promise.all([
          store.commitVersion({ modelId: a.model.id, parentId: null, blocks: same() }),
          other.commitVersion({ modelId: b.model.id, parentId: null, blocks: same() }),
        ]);
        expect(ra.version.contentHash).toBe(rb.version.contentHash);
        expect(ra.writtenBlocks + rb.writtenBlocks).toBe(8);
        expect(ra.writtenBlocks + ra.reusedBlocks).toBe(8);
        const hashes = (await store.getManifest(ra.version.id)).map((e) => `'${e.hash}'`).join(',');
        const stored = await h().exec(`select count(*)::int as n from blocks where hash in (${hashes})`);
        expect(Number(stored[0]?.n)).toBe(8);
        expect((await store.verifyVersion(rb.version.id)).blocks).toBe(8);
      } finally {
        await other.close();
      }
    });

    it('a commit on a stale parent conflicts; naming the current head branches explicitly', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const v1 = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 1)],
      });
      const v2 = await store.commitVersion({
        modelId: model.id,
        parentId: v1.version.id,
        blocks: [smallBlock('a', 2)],
      });
      await expect(
        store.commitVersion({ modelId: model.id, parentId: v1.version.id, blocks: [smallBlock('a', 3)] }),
      ).rejects.toMatchObject({
        code: 'version_conflict',
        expectedId: v1.version.id,
        actualId: v2.version.id,
      });
      await expect(
        store.commitVersion({ modelId: model.id, parentId: null, blocks: [] }),
      ).rejects.toBeInstanceOf(VersionConflictError);
      const v3 = await store.commitVersion({
        modelId: model.id,
        parentId: v1.version.id,
        expectedHeadId: v2.version.id,
        blocks: [smallBlock('a', 3)],
      });
      expect(v3.version).toMatchObject({ parentId: v1.version.id, seq: 3 });
      expect((await store.getModel(model.id)).headVersionId).toBe(v3.version.id);
    });

    it('many concurrent writers on one head: one winner per round, seq stays dense', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      let head = (
        await store.commitVersion({ modelId: model.id, parentId: null, blocks: [smallBlock('a', 0)] })
      ).version.id;
      for (let round = 1; round <= 3; round++) {
        const results = await Promise.allSettled(
          [0, 1, 2, 3].map((w) =>
            store.commitVersion({
              modelId: model.id,
              parentId: head,
              blocks: [smallBlock('a', round * 10 + w)],
            }),
          ),
        );
        const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        expect(won).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(VersionConflictError);
        head = (won[0] as (typeof won)[number]).version.id;
      }
      expect((await store.listVersions(model.id)).map((v) => v.seq)).toEqual([1, 2, 3, 4]);
    });
  });
}
