import { describe, expect, it } from 'vitest';
import {
  ALIAS_CHANNEL,
  type AliasNotification,
  StoreValidationError,
  VersionConflictError,
} from '../../src/index.js';
import { smallBlock } from '../helpers/layer.js';
import { freshModel, type HarnessRef, waitFor } from './harness.js';

/** LISTEN/NOTIFY: a round trip between stores, unlisten, and alias changes announced after commit. */
export function notifyContract(h: HarnessRef): void {
  describe('notifications', () => {
    it('delivers payloads to listeners of the channel until they unlisten', async () => {
      const { store } = h();
      const other = await h().openAnother();
      try {
        const received: string[] = [];
        const unlisten = await store.listen('peer_contract_test', (p) => received.push(p));
        const elsewhere: string[] = [];
        const unlistenOther = await store.listen('peer_contract_other', (p) => elsewhere.push(p));
        await store.notify('peer_contract_test', 'hello');
        await other.notify('peer_contract_test', '{"from":"another store","ü":1}');
        await waitFor(() => received.length === 2);
        expect(received).toEqual(['hello', '{"from":"another store","ü":1}']);
        expect(elsewhere).toEqual([]);

        await unlisten();
        await unlisten(); // idempotent
        await store.notify('peer_contract_test', 'after unlisten');
        await store.notify('peer_contract_other', 'marker');
        // The marker on the other channel arrives after anything sent earlier.
        await waitFor(() => elsewhere.length === 1);
        expect(received).toHaveLength(2);
        await unlistenOther();

        for (const channel of ['Peer', '1abc', 'a-b', 'x'.repeat(64), '']) {
          await expect(store.notify(channel, 'x')).rejects.toBeInstanceOf(StoreValidationError);
          await expect(store.listen(channel, () => {})).rejects.toBeInstanceOf(StoreValidationError);
        }
        await expect(store.notify('peer_ok', 'x'.repeat(8000))).rejects.toBeInstanceOf(StoreValidationError);
      } finally {
        await other.close();
      }
    });

    it('announces alias creations, moves and rollbacks on ALIAS_CHANNEL once committed', async () => {
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
      const seen: AliasNotification[] = [];
      const unlisten = await store.listen(ALIAS_CHANNEL, (payload) => {
        const note = JSON.parse(payload) as AliasNotification;
        if (note.modelId === model.id) seen.push(note);
      });
      try {
        await store.createAlias({
          modelId: model.id,
          name: 'production',
          versionId: v1.version.id,
          actor: 't',
        });
        await store.moveAlias({
          modelId: model.id,
          name: 'production',
          versionId: v2.version.id,
          actor: 't',
        });
        // A refused move rolls back, and so does its notification.
        await expect(
          store.moveAlias({
            modelId: model.id,
            name: 'production',
            versionId: v1.version.id,
            expectedVersionId: v1.version.id,
            actor: 't',
          }),
        ).rejects.toBeInstanceOf(VersionConflictError);
        await store.rollbackAlias({ modelId: model.id, name: 'production', actor: 't' });
        await waitFor(() => seen.length >= 3);
        expect(seen).toEqual([
          { modelId: model.id, name: 'production', versionId: v1.version.id },
          { modelId: model.id, name: 'production', versionId: v2.version.id },
          { modelId: model.id, name: 'production', versionId: v1.version.id },
        ]);
      } finally {
        await unlisten();
      }
    });
  });
}
