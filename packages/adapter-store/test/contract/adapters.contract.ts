import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, StoreValidationError, VersionConflictError } from '../../src/index.js';
import { collect, smallBlock } from '../helpers/layer.js';
import { freshModel, type HarnessRef } from './harness.js';

const ramp = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => i * scale);

/** LoRA adapters (versioned like models) and per-version regularization state. */
export function adapterContract(h: HarnessRef): void {
  describe('adapters', () => {
    it('commits, loads, aliases and lists LoRA adapter versions like model versions', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const adapter = await store.createAdapter({
        modelId: model.id,
        name: 'legal',
        targetLayer: 'block0.ffn.up',
      });
      expect(adapter).toMatchObject({ kind: 'adapter', baseModelId: model.id });
      // Found by name even before its first version; not found under another model or name.
      expect((await store.findAdapter(model.id, 'legal'))?.id).toBe(adapter.id);
      expect(await store.findAdapter(model.id, 'medical')).toBeUndefined();
      const { model: other } = await freshModel(store);
      expect(await store.findAdapter(other.id, 'legal')).toBeUndefined();
      const input = { adapterId: adapter.id, rank: 4, alpha: 8, dIn: 16, dOut: 12 };
      const v1 = await store.commitAdapterVersion({
        ...input,
        parentId: null,
        a: ramp(64, 0.5),
        b: ramp(48, -1),
        retrievalKey: ramp(8, 0.25),
        message: 'first legal stream',
      });
      const loaded = await store.loadAdapterVersion(v1.version.id);
      expect(loaded).toMatchObject({
        name: 'legal',
        targetLayer: 'block0.ffn.up',
        rank: 4,
        alpha: 8,
        dIn: 16,
        dOut: 12,
      });
      expect([...loaded.a]).toEqual([...ramp(64, 0.5)]);
      expect([...loaded.b]).toEqual([...ramp(48, -1)]);
      expect([...loaded.retrievalKey]).toEqual([...ramp(8, 0.25)]);
      const v2 = await store.commitAdapterVersion({
        ...input,
        parentId: v1.version.id,
        a: ramp(64, 0.5),
        b: ramp(48, 2),
        retrievalKey: ramp(8, 1),
      });
      expect(v2).toMatchObject({ writtenBlocks: 1, reusedBlocks: 1 });
      await expect(
        store.commitAdapterVersion({
          ...input,
          parentId: v1.version.id,
          a: ramp(64, 1),
          b: ramp(48, 1),
          retrievalKey: ramp(8, 1),
        }),
      ).rejects.toBeInstanceOf(VersionConflictError);
      await store.createAlias({
        modelId: adapter.id,
        name: 'production',
        versionId: v1.version.id,
        actor: 't',
      });
      const keys = await store.listAdapterKeys(model.id);
      expect(keys.map((k) => [k.name, k.versionId])).toEqual([['legal', v2.version.id]]);
      const prodKeys = await store.listAdapterKeys(model.id, { alias: 'production' });
      expect([...(prodKeys[0]?.retrievalKey ?? [])]).toEqual([...ramp(8, 0.25)]);
      const diff = await store.diffVersions(v1.version.id, v2.version.id);
      expect(diff.changed.map((c) => c.to.name)).toEqual(['lora.B']);
    });

    it('keeps model and adapter lines apart and validates LoRA shapes', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const adapter = await store.createAdapter({ modelId: model.id, name: 'x', targetLayer: 'l0' });
      await expect(
        store.createAdapter({ modelId: model.id, name: 'x', targetLayer: 'l0' }),
      ).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(
        store.commitVersion({ modelId: adapter.id, parentId: null, blocks: [] }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      const bad = {
        adapterId: adapter.id,
        parentId: null,
        rank: 2,
        alpha: 1,
        dIn: 3,
        dOut: 3,
        retrievalKey: ramp(2, 1),
      };
      await expect(
        store.commitAdapterVersion({ ...bad, a: ramp(5, 1), b: ramp(6, 1) }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(
        store.commitAdapterVersion({ ...bad, alpha: Number.NaN, a: ramp(6, 1), b: ramp(6, 1) }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(
        store.commitAdapterVersion({ ...bad, adapterId: model.id, a: ramp(6, 1), b: ramp(6, 1) }),
      ).rejects.toBeInstanceOf(StoreValidationError);
    });
  });

  describe('regularization state', () => {
    it('stores anchors and Fisher diagonals per version, deduplicated against the weights, immutable', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const weights = smallBlock('peer0.experts.u.rows.000000-000064', 0.5, 4096);
      const v = await store.commitVersion({ modelId: model.id, parentId: null, blocks: [weights] });
      const fisher = smallBlock('fisher/peer0.experts.u.rows.000000-000064', 0.01, 4096);
      const anchor = { ...weights, name: 'anchor/peer0.experts.u.rows.000000-000064' };
      const saved = await store.saveRegularization({
        versionId: v.version.id,
        method: 'ewc',
        meta: { lambda: 100, samples: 512 },
        tensors: [anchor, fisher],
      });
      expect(saved).toMatchObject({ writtenBlocks: 1, reusedBlocks: 1 });
      const state = await store.loadRegularization(v.version.id, 'ewc');
      expect(state.meta).toEqual({ lambda: 100, samples: 512 });
      expect(state.tensors.map((t) => t.name)).toEqual([anchor.name, fisher.name]);
      expect(Buffer.from(state.tensors[1]?.bytes ?? []).equals(Buffer.from(fisher.bytes))).toBe(true);
      expect(await store.listRegularization(v.version.id)).toEqual(['ewc']);
      await expect(
        store.saveRegularization({ versionId: v.version.id, method: 'ewc', tensors: [] }),
      ).rejects.toBeInstanceOf(AlreadyExistsError);
      await store.collectGarbage();
      expect((await store.loadRegularization(v.version.id, 'ewc')).tensors).toHaveLength(2);
      expect(await collect(store.loadBlocks(v.version.id))).toHaveLength(1);
    });
  });
}
