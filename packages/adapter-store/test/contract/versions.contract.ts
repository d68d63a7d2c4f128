import type { TensorBlock } from '@peer/core/serialization';
import { describe, expect, it } from 'vitest';
import { NotFoundError, StoreValidationError } from '../../src/index.js';
import { collect, sameBlock, smallBlock, tableBlocks } from '../helpers/layer.js';
import { freshModel, type HarnessRef } from './harness.js';

/** Commit, load, copy-on-write, diff, lineage, content hashes. */
export function versionContract(h: HarnessRef): void {
  describe('versions', () => {
    it('commits a first version and loads it back bit-exact, verified, in name order', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const special = smallBlock('special', [Number.NaN, -0, Number.POSITIVE_INFINITY, 1.5e-45, -3.4e38]);
      const blocks = [
        ...tableBlocks({ table: 'peer0.experts.u', endRow: 256, rowsPerBlock: 64, rowWidth: 32 }),
        special,
      ];
      const res = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks,
        message: 'first',
        author: 'test',
      });
      expect(res.version).toMatchObject({
        seq: 1,
        parentId: null,
        blockCount: 5,
        message: 'first',
        author: 'test',
      });
      expect(res.writtenBlocks).toBe(5);
      expect(res.version.totalBytes).toBe(4 * 64 * 32 * 4 + 20);
      const loaded = await collect(store.loadBlocks(res.version.id));
      expect(loaded.map((b) => b.name)).toEqual([...blocks.map((b) => b.name)].sort());
      const byName = new Map(loaded.map((b) => [b.name, b]));
      for (const b of blocks) expect(sameBlock(byName.get(b.name) as TensorBlock, b)).toBe(true);
      const back = loaded.find((b) => b.name === 'special');
      const f = new Float32Array(back?.bytes.buffer ?? new ArrayBuffer(0), back?.bytes.byteOffset, 5);
      expect(Number.isNaN(f[0])).toBe(true);
      expect(Object.is(f[1], -0)).toBe(true);
      expect((await store.getModel(model.id)).headVersionId).toBe(res.version.id);
    });

    it('copy-on-write: a growth step writes only new and changed blocks and references the rest', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const base = [...tableBlocks({ table: 't', endRow: 256, rowsPerBlock: 64, rowWidth: 16 })];
      const v1 = await store.commitVersion({ modelId: model.id, parentId: null, blocks: base });
      const grown = [
        ...tableBlocks({ table: 't', startRow: 256, endRow: 320, rowsPerBlock: 64, rowWidth: 16 }),
      ];
      const changed = smallBlock('t.rows.000064-000128', 7, 64 * 16);
      const v2 = await store.commitVersion({
        modelId: model.id,
        parentId: v1.version.id,
        blocks: [...grown, changed],
      });
      expect(v2).toMatchObject({ writtenBlocks: 2, inheritedBlocks: 3, reusedBlocks: 0 });
      expect(v2.version).toMatchObject({ seq: 2, parentId: v1.version.id, blockCount: 5 });
      const m1 = await store.getManifest(v1.version.id);
      const m2 = await store.getManifest(v2.version.id);
      expect(m2.find((e) => e.name === 't.rows.000000-000064')?.hash).toBe(
        m1.find((e) => e.name === 't.rows.000000-000064')?.hash,
      );
      const diff = await store.diffVersions(v1.version.id, v2.version.id);
      expect(diff.added.map((e) => e.name)).toEqual(['t.rows.000256-000320']);
      expect(diff.changed.map((c) => c.to.name)).toEqual(['t.rows.000064-000128']);
      expect(diff.removed).toEqual([]);
      expect(diff.unchanged).toBe(3);
      expect(diff.rows).toEqual([
        {
          table: 't',
          ranges: [
            [64, 128],
            [256, 320],
          ],
        },
      ]);
      // v1 is untouched by v2.
      const v1Blocks = await collect(store.loadBlocks(v1.version.id));
      expect(v1Blocks.every((b, i) => sameBlock(b, base[i] ?? b))).toBe(true);
    });

    it('removes blocks on request and refuses to remove a name the parent lacks', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const v1 = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 1), smallBlock('b', 2)],
      });
      const v2 = await store.commitVersion({
        modelId: model.id,
        parentId: v1.version.id,
        blocks: [],
        removeBlocks: ['a'],
      });
      expect((await store.getManifest(v2.version.id)).map((e) => e.name)).toEqual(['b']);
      await expect(
        store.commitVersion({
          modelId: model.id,
          parentId: v2.version.id,
          blocks: [],
          removeBlocks: ['zzz'],
        }),
      ).rejects.toBeInstanceOf(StoreValidationError);
    });

    it('deduplicates identical bytes across names and models, and equal content gives equal content hashes', async () => {
      const { store } = h();
      const a = await freshModel(store);
      const b = await freshModel(store);
      const blocks = [smallBlock('x', 3.25, 1000), smallBlock('y', 3.25, 1000)];
      const ra = await store.commitVersion({ modelId: a.model.id, parentId: null, blocks });
      expect(ra).toMatchObject({ writtenBlocks: 1, reusedBlocks: 1 });
      const rb = await store.commitVersion({ modelId: b.model.id, parentId: null, blocks });
      expect(rb).toMatchObject({ writtenBlocks: 0, reusedBlocks: 2 });
      expect(rb.version.contentHash).toBe(ra.version.contentHash);
      const [x, y] = await collect(store.loadBlocks(rb.version.id));
      expect(x?.bytes).not.toBe(y?.bytes);
    });

    it('lists versions and lineage (parents, stream and ingest range)', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const stream = await store.createStream({ modelId: model.id, name: 'news' });
      const v1 = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 1)],
      });
      const v2 = await store.commitVersion({
        modelId: model.id,
        parentId: v1.version.id,
        blocks: [smallBlock('b', 2)],
        lineage: { streamId: stream.id, ingestFrom: 0, ingestTo: 500, extra: { job: 'j1' } },
        metrics: { acc: 0.91 },
        config: { rows: 2 },
      });
      const v3 = await store.commitVersion({
        modelId: model.id,
        parentId: v2.version.id,
        blocks: [smallBlock('c', 3)],
      });
      expect((await store.lineage(v3.version.id)).map((v) => v.seq)).toEqual([3, 2, 1]);
      expect((await store.listVersions(model.id)).map((v) => v.id)).toEqual(
        [v1, v2, v3].map((r) => r.version.id),
      );
      const got = await store.getVersion(v2.version.id);
      expect(got.lineage).toEqual({
        streamId: stream.id,
        ingestFrom: 0,
        ingestTo: 500,
        extra: { job: 'j1' },
      });
      expect(got.metrics).toEqual({ acc: 0.91 });
      expect(got.config).toEqual({ rows: 2 });
      expect((await store.getVersion(v3.version.id)).config).toEqual({ rows: 2 });
    });

    it('loads a subset of blocks by name and rejects unknown names before reading anything', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const v = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 1), smallBlock('b', 2)],
      });
      const only = await collect(store.loadBlocks(v.version.id, { names: ['b'] }));
      expect(only.map((b) => b.name)).toEqual(['b']);
      await expect(collect(store.loadBlocks(v.version.id, { names: ['nope'] }))).rejects.toBeInstanceOf(
        NotFoundError,
      );
    });

    it('keeps committed versions and manifests immutable in the database itself', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const v = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 1)],
      });
      await expect(
        h().exec(`update versions set message = 'rewritten' where id = '${v.version.id}'`),
      ).rejects.toThrow(/not allowed/);
      await expect(
        h().exec(`update version_blocks set name = 'z' where version_id = '${v.version.id}'`),
      ).rejects.toThrow(/not allowed/);
    });
  });
}
