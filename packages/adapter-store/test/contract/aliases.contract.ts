import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  NotFoundError,
  StoreValidationError,
  VersionConflictError,
} from '../../src/index.js';
import { collect, smallBlock } from '../helpers/layer.js';
import { freshModel, type HarnessRef } from './harness.js';

/** Aliases, their log, rollback; version deletion and garbage collection. */
export function aliasContract(h: HarnessRef): void {
  describe('aliases', () => {
    it('moves an alias, logs every move (who, when, from, to, why) and rolls back with one move', async () => {
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
      await store.createAlias({
        modelId: model.id,
        name: 'production',
        versionId: v1.version.id,
        actor: 'alice',
      });
      const moved = await store.moveAlias({
        modelId: model.id,
        name: 'production',
        versionId: v2.version.id,
        actor: 'bob',
        reason: 'stream 2 trained',
      });
      expect(moved.versionId).toBe(v2.version.id);
      const back = await store.rollbackAlias({
        modelId: model.id,
        name: 'production',
        actor: 'carol',
        reason: 'bad stream',
      });
      expect(back.versionId).toBe(v1.version.id);
      expect((await store.getAlias(model.id, 'production')).versionId).toBe(v1.version.id);
      const log = await store.aliasHistory(model.id, 'production');
      expect(log.map((m) => [m.fromVersionId, m.toVersionId, m.actor, m.reason])).toEqual([
        [null, v1.version.id, 'alice', ''],
        [v1.version.id, v2.version.id, 'bob', 'stream 2 trained'],
        [v2.version.id, v1.version.id, 'carol', 'bad stream'],
      ]);
      expect(log.every((m) => m.at instanceof Date)).toBe(true);
      // The rolled-back-to version serves the old weights.
      const [a] = await collect(store.loadBlocks(back.versionId));
      expect(new Float32Array(a?.bytes.buffer ?? new ArrayBuffer(4), a?.bytes.byteOffset, 1)[0]).toBe(1);
      await expect(h().exec(`delete from alias_log where model_id = '${model.id}'`)).rejects.toThrow(
        /not allowed/,
      );
      expect((await store.listAliases(model.id)).map((a) => a.name)).toEqual(['production']);
    });

    it('refuses duplicate aliases, stale expected targets, foreign versions and empty rollbacks', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const other = await freshModel(store);
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
      const foreign = await store.commitVersion({
        modelId: other.model.id,
        parentId: null,
        blocks: [smallBlock('a', 3)],
      });
      await store.createAlias({ modelId: model.id, name: 'staging', versionId: v1.version.id, actor: 'a' });
      await expect(
        store.createAlias({ modelId: model.id, name: 'staging', versionId: v2.version.id, actor: 'a' }),
      ).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(
        store.moveAlias({
          modelId: model.id,
          name: 'staging',
          versionId: v2.version.id,
          expectedVersionId: v2.version.id,
          actor: 'a',
        }),
      ).rejects.toBeInstanceOf(VersionConflictError);
      await expect(
        store.moveAlias({ modelId: model.id, name: 'staging', versionId: foreign.version.id, actor: 'a' }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(
        store.rollbackAlias({ modelId: model.id, name: 'staging', actor: 'a' }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(store.getAlias(model.id, 'nope')).rejects.toBeInstanceOf(NotFoundError);
      expect(await store.aliasHistory(model.id, 'staging')).toHaveLength(1);
    });
  });

  describe('deletion and garbage collection', () => {
    it('deletes only unused versions and collects exactly the blocks nothing references', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const v1 = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 11), smallBlock('b', 12)],
      });
      const v2 = await store.commitVersion({
        modelId: model.id,
        parentId: v1.version.id,
        blocks: [smallBlock('b', 13)],
      });
      await expect(store.deleteVersion(v2.version.id)).rejects.toThrow(/not a head/);
      await expect(store.deleteVersion(v1.version.id)).rejects.toThrow(/not a parent/);
      // Branch from v1 after "rolling back": v2 becomes an abandoned leaf.
      const v3 = await store.commitVersion({
        modelId: model.id,
        parentId: v1.version.id,
        expectedHeadId: v2.version.id,
        blocks: [smallBlock('b', 14)],
      });
      await store.createAlias({ modelId: model.id, name: 'prod', versionId: v3.version.id, actor: 't' });
      await expect(store.deleteVersion(v3.version.id)).rejects.toThrow(/not a head/);
      const v2b = (await store.getManifest(v2.version.id)).find((e) => e.name === 'b')?.hash;
      await store.deleteVersion(v2.version.id);
      await expect(store.getVersion(v2.version.id)).rejects.toBeInstanceOf(NotFoundError);
      const gc = await store.collectGarbage();
      expect(gc.deletedBlocks).toBeGreaterThanOrEqual(1);
      expect(await h().exec(`select hash from blocks where hash = '${v2b}'`)).toHaveLength(0);
      expect(await collect(store.loadBlocks(v1.version.id))).toHaveLength(2);
      expect(await collect(store.loadBlocks(v3.version.id))).toHaveLength(2);
      expect((await store.collectGarbage()).deletedBlocks).toBe(0);
    });
  });
}
