import { describe, expect, it } from 'vitest';
import { smallBlock } from '../helpers/layer.js';
import { freshModel, type HarnessRef } from './harness.js';

/** Scrape-time statistics: storage totals and every model's head. */
export function statsContract(h: HarnessRef): void {
  describe('stats', () => {
    it('counts new blocks once and lists each model head with its config', async () => {
      const { store } = h();
      const before = await store.storageStats();
      const { model } = await freshModel(store);
      const value = Math.random();
      const blocks = [smallBlock('a', value, 1000), smallBlock('b', value, 1000)]; // equal content: one block
      const { version } = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks,
        config: { marker: model.id },
      });
      const after = await store.storageStats();
      expect(after.blockCount - before.blockCount).toBe(1);
      expect(after.blockBytes - before.blockBytes).toBe(4000);
      expect(after.databaseBytes).toBeGreaterThan(0);
      const heads = await store.modelHeads();
      const head = heads.find((x) => x.modelId === model.id);
      expect(head).toMatchObject({
        versionId: version.id,
        seq: 1,
        name: model.name,
        config: { marker: model.id },
      });
      const { model: empty } = await freshModel(store);
      expect((await store.modelHeads()).some((x) => x.modelId === empty.id)).toBe(false);
    });
  });
}
