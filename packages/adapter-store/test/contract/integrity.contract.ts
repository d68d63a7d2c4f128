import { describe, expect, it } from 'vitest';
import { BlockIntegrityError } from '../../src/index.js';
import { collect, tableBlocks } from '../helpers/layer.js';
import { freshModel, type HarnessRef } from './harness.js';

/** Hash verification on read, and storage proportional to the delta. */
export function integrityContract(h: HarnessRef): void {
  describe('integrity and storage', () => {
    it('one flipped byte in a stored block fails the load with an error naming the block', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const v = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: tableBlocks({
          table: 'peer0.experts.v',
          endRow: 256,
          rowsPerBlock: 64,
          rowWidth: 64,
          seed: 77,
        }),
      });
      const victim = (await store.getManifest(v.version.id))[2];
      if (!victim) throw new Error('manifest too short');
      await h().exec(
        `update blocks set data = set_byte(data, 1000, get_byte(data, 1000) # 1) where hash = '${victim.hash}'`,
      );
      const error = await collect(store.loadBlocks(v.version.id)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BlockIntegrityError);
      expect(error).toMatchObject({ blockName: victim.name, hash: victim.hash, reason: 'hash_mismatch' });
      expect((error as Error).message).toContain(victim.name);
      expect((error as Error).message).toContain(victim.hash);
      // Blocks before the corrupt one are fine; asking only for them succeeds.
      const first = (await store.getManifest(v.version.id))[0]?.name as string;
      expect(await collect(store.loadBlocks(v.version.id, { names: [first] }))).toHaveLength(1);
    });

    it('a version adding 64 sub-key rows to a 1024-row layer stores about 64 rows of bytes (±10%)', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      // u and v: 1024 sub-key rows × (8 experts × 128 dims) fp32; sub-keys c1: 1024 rows × 64 dims.
      // 64-row blocks (256 KiB): big enough that TOAST's page granularity stays a few percent.
      const layer = (startRow: number, endRow: number) => [
        ...tableBlocks({
          table: 'peer0.experts.u',
          startRow,
          endRow,
          rowsPerBlock: 64,
          rowWidth: 1024,
          seed: 5,
        }),
        ...tableBlocks({
          table: 'peer0.experts.v',
          startRow,
          endRow,
          rowsPerBlock: 64,
          rowWidth: 1024,
          seed: 6,
        }),
        ...tableBlocks({ table: 'peer0.keys.c1', startRow, endRow, rowsPerBlock: 64, rowWidth: 64, seed: 7 }),
      ];
      const rowBytes = (1024 + 1024 + 64) * 4;
      const v1 = await store.commitVersion({ modelId: model.id, parentId: null, blocks: layer(0, 1024) });
      expect(v1.writtenBytes).toBe(1024 * rowBytes);
      const size = async () =>
        Number((await h().exec(`select pg_total_relation_size('blocks')::bigint as n`))[0]?.n);
      const before = await size();
      const v2 = await store.commitVersion({
        modelId: model.id,
        parentId: v1.version.id,
        blocks: layer(1024, 1088),
      });
      const grown = (await size()) - before;
      const expected = 64 * rowBytes;
      expect(v2.writtenBytes).toBe(expected);
      expect(v2.inheritedBlocks).toBe(48);
      // Measured by the database itself: heap + TOAST + indexes of `blocks`.
      expect(Math.abs(grown - expected) / expected).toBeLessThan(0.1);
      const manifestRows = await h().exec(
        `select count(*)::int as n from version_blocks where version_id = '${v2.version.id}'`,
      );
      expect(Number(manifestRows[0]?.n)).toBe(51);
      const diff = await store.diffVersions(v1.version.id, v2.version.id);
      expect(diff.rows.map((r) => [r.table, r.ranges])).toEqual([
        ['peer0.experts.u', [[1024, 1088]]],
        ['peer0.experts.v', [[1024, 1088]]],
        ['peer0.keys.c1', [[1024, 1088]]],
      ]);
    });

    it('streams a many-chunk commit and load from generators without materialising the layer', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      async function* lazy() {
        for (const b of tableBlocks({
          table: 'big',
          endRow: 2048,
          rowsPerBlock: 128,
          rowWidth: 512,
          seed: 9,
        }))
          yield b;
      }
      const v = await store.commitVersion({ modelId: model.id, parentId: null, blocks: lazy() });
      expect(v.writtenBytes).toBe(2048 * 512 * 4);
      let n = 0;
      let bytes = 0;
      const expected = tableBlocks({ table: 'big', endRow: 2048, rowsPerBlock: 128, rowWidth: 512, seed: 9 });
      for await (const b of store.loadBlocks(v.version.id)) {
        const want = expected.next().value;
        expect(Buffer.from(b.bytes).equals(Buffer.from(want?.bytes ?? new Uint8Array()))).toBe(true);
        expect(b.bytes.byteOffset % 8).toBe(0);
        n++;
        bytes += b.bytes.byteLength;
      }
      expect([n, bytes]).toEqual([16, 2048 * 512 * 4]);
    });
  });
}
