import type { TensorBlock } from '@peer/core/serialization';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, StoreValidationError } from '../../src/index.js';
import { smallBlock, tableBlocks } from '../helpers/layer.js';
import { freshModel, type HarnessRef, tableCounts } from './harness.js';

const NASTY_NAMES = [
  "x'; drop table blocks; --",
  'a"b',
  'semi;colon',
  'back\\slash',
  'new\nline',
  'nul\u0000byte',
  'tab\there',
  'space name',
  '',
];
/** Longer than every entity-name limit (100); block names and keys get their own oversize checks. */
const LONG_NAME = 'n'.repeat(101);

/** Bad input is a typed error and leaves the database untouched. */
export function badInputContract(h: HarnessRef): void {
  describe('bad input', () => {
    it('bytes not matching dtype × shape, even in the middle of a multi-chunk stream: typed error, nothing written', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const v1 = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 1)],
      });
      const before = await tableCounts(h());
      function* stream(): Generator<TensorBlock> {
        // ~1.5 MB of valid blocks first (several COPY rounds already sent), then a bad one.
        yield* tableBlocks({ table: 'ok', endRow: 768, rowsPerBlock: 64, rowWidth: 512, seed: 3 });
        yield { name: 'bad', dtype: 'float32', shape: [10, 10], bytes: new Uint8Array(399) };
      }
      const error = await store
        .commitVersion({ modelId: model.id, parentId: v1.version.id, blocks: stream() })
        .catch((e) => e);
      expect(error).toBeInstanceOf(StoreValidationError);
      expect(error).toMatchObject({ field: 'blocks(bad).bytes.length', value: 399 });
      for (const bad of [
        { name: 'd', dtype: 'float64', shape: [1], bytes: new Uint8Array(8) },
        { name: 'd', dtype: 'float32', shape: [-1], bytes: new Uint8Array(0) },
        { name: 'd', dtype: 'float32', shape: [1.5], bytes: new Uint8Array(6) },
        { name: 'd', dtype: 'uint8', shape: [2], bytes: [1, 2] },
      ]) {
        await expect(
          store.commitVersion({
            modelId: model.id,
            parentId: v1.version.id,
            blocks: [bad as unknown as TensorBlock],
          }),
        ).rejects.toBeInstanceOf(StoreValidationError);
      }
      await expect(
        store.commitVersion({
          modelId: model.id,
          parentId: v1.version.id,
          blocks: [smallBlock('a', 1), smallBlock('a', 2)],
        }),
      ).rejects.toThrow(/unique within one commit/);
      expect(await tableCounts(h())).toEqual(before);
      expect((await store.getModel(model.id)).headVersionId).toBe(v1.version.id);
    });

    it('unknown parents, models and streams are NotFoundError; malformed ids are validation errors', async () => {
      const { store } = h();
      const { model } = await freshModel(store);
      const before = await tableCounts(h());
      const ghost = '00000000-0000-4000-8000-000000000000';
      await expect(
        store.commitVersion({ modelId: model.id, parentId: ghost, expectedHeadId: null, blocks: [] }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        store.commitVersion({ modelId: ghost, parentId: null, blocks: [] }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        store.commitVersion({ modelId: 'not-a-uuid', parentId: null, blocks: [] }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(
        store.commitVersion({ modelId: model.id, parentId: null, blocks: [], lineage: { streamId: ghost } }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        store.recordBatch({ streamId: ghost, idempotencyKey: 'k', records: [1] }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getVersion(ghost)).rejects.toBeInstanceOf(NotFoundError);
      expect(await tableCounts(h())).toEqual(before);
    });

    it('names with SQL metacharacters, control characters or oversized: typed errors, nothing written', async () => {
      const { store } = h();
      const { tenant, model } = await freshModel(store);
      const v1 = await store.commitVersion({
        modelId: model.id,
        parentId: null,
        blocks: [smallBlock('a', 1)],
      });
      const stream = await store.createStream({ modelId: model.id, name: 'ok' });
      const before = await tableCounts(h());
      for (const name of NASTY_NAMES) {
        await expect(store.createTenant({ name })).rejects.toBeInstanceOf(StoreValidationError);
        await expect(store.createModel({ tenantId: tenant.id, name })).rejects.toBeInstanceOf(
          StoreValidationError,
        );
        await expect(
          store.createAlias({ modelId: model.id, name, versionId: v1.version.id, actor: 'x' }),
        ).rejects.toBeInstanceOf(StoreValidationError);
        await expect(store.createStream({ modelId: model.id, name })).rejects.toBeInstanceOf(
          StoreValidationError,
        );
        await expect(
          store.commitVersion({ modelId: model.id, parentId: v1.version.id, blocks: [smallBlock(name, 1)] }),
        ).rejects.toBeInstanceOf(StoreValidationError);
        await expect(
          store.recordBatch({ streamId: stream.id, idempotencyKey: name, records: [1] }),
        ).rejects.toBeInstanceOf(StoreValidationError);
      }
      await expect(store.createTenant({ name: LONG_NAME })).rejects.toBeInstanceOf(StoreValidationError);
      await expect(store.createModel({ tenantId: tenant.id, name: LONG_NAME })).rejects.toBeInstanceOf(
        StoreValidationError,
      );
      await expect(
        store.createAlias({ modelId: model.id, name: LONG_NAME, versionId: v1.version.id, actor: 'x' }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(
        store.commitVersion({
          modelId: model.id,
          parentId: v1.version.id,
          blocks: [smallBlock('b'.repeat(256), 1)],
        }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(
        store.recordBatch({ streamId: stream.id, idempotencyKey: 'k'.repeat(201), records: [1] }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(
        store.commitVersion({
          modelId: model.id,
          parentId: v1.version.id,
          blocks: [],
          message: 'bell\u0007',
        }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      for (const config of [{ x: Number.NaN }, { s: 'nul\u0000' }, { d: new Date() }, { u: undefined }]) {
        await expect(
          store.commitVersion({
            modelId: model.id,
            parentId: v1.version.id,
            blocks: [],
            config: config as never,
          }),
        ).rejects.toBeInstanceOf(StoreValidationError);
      }
      await expect(
        store.recordBatch({
          streamId: stream.id,
          idempotencyKey: 'k',
          records: [{ bad: Number.POSITIVE_INFINITY }],
        }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      await expect(
        store.recordBatch({ streamId: stream.id, idempotencyKey: 'k', records: [] }),
      ).rejects.toBeInstanceOf(StoreValidationError);
      expect(await tableCounts(h())).toEqual(before);
      // Names that look odd but are allowed still round-trip exactly.
      const odd = await store.createModel({ tenantId: tenant.id, name: 'Model_v2.1-beta' });
      expect(odd.name).toBe('Model_v2.1-beta');
    });

    it('duplicate names are AlreadyExistsError', async () => {
      const { store } = h();
      const { tenant, model } = await freshModel(store);
      await expect(store.createTenant({ name: tenant.name })).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(store.createModel({ tenantId: tenant.id, name: model.name })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      await store.createStream({ modelId: model.id, name: 's' });
      await expect(store.createStream({ modelId: model.id, name: 's' })).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
    });
  });
}
