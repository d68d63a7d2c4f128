import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, StoreValidationError } from '../../src/index.js';
import { type HarnessRef, newApiKey, uniqueName } from './harness.js';

/** API keys: stored by sha256 only, found while live, revoked (never deleted), counted for bootstrap. */
export function apiKeyContract(h: HarnessRef): void {
  describe('api keys', () => {
    it('creates, finds by hash, lists, revokes and counts keys', async () => {
      const { store } = h();
      const tenant = await store.createTenant({ name: uniqueName('tenant') });
      expect(await store.findTenantByName(tenant.name)).toEqual(tenant);
      expect(await store.findTenantByName(uniqueName('nobody'))).toBeUndefined();
      const live = await store.countApiKeys();
      const all = await store.countApiKeys({ includeRevoked: true });

      const admin = newApiKey();
      const reader = newApiKey();
      const created = await store.createApiKey({
        tenantId: tenant.id,
        name: 'bootstrap admin',
        scope: 'admin',
        ...admin,
      });
      expect(created).toMatchObject({
        tenantId: tenant.id,
        name: 'bootstrap admin',
        scope: 'admin',
        prefix: admin.key.slice(0, 12),
        keyHash: admin.keyHash,
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(created.createdAt).toBeInstanceOf(Date);
      const second = await store.createApiKey({
        tenantId: tenant.id,
        name: 'dashboard',
        scope: 'read',
        ...reader,
      });
      expect(await store.countApiKeys()).toBe(live + 2);

      const found = await store.findApiKeyByHash(admin.keyHash);
      expect(found).toMatchObject({ id: created.id, scope: 'admin' });
      expect(found?.lastUsedAt).toBeInstanceOf(Date);
      // Within the minute the use is not rewritten.
      expect((await store.findApiKeyByHash(admin.keyHash))?.lastUsedAt).toEqual(found?.lastUsedAt);
      expect(await store.findApiKeyByHash(newApiKey().keyHash)).toBeUndefined();
      expect((await store.listApiKeys(tenant.id)).map((k) => k.id)).toEqual([created.id, second.id]);

      const revoked = await store.revokeApiKey(second.id);
      expect(revoked.revokedAt).toBeInstanceOf(Date);
      expect(await store.findApiKeyByHash(reader.keyHash)).toBeUndefined();
      expect((await store.revokeApiKey(second.id)).revokedAt).toEqual(revoked.revokedAt);
      expect((await store.listApiKeys(tenant.id)).map((k) => [k.name, k.revokedAt !== null])).toEqual([
        ['bootstrap admin', false],
        ['dashboard', true],
      ]);
      expect(await store.countApiKeys()).toBe(live + 1);
      expect(await store.countApiKeys({ includeRevoked: true })).toBe(all + 2);
    });

    it('refuses a duplicate hash (also across tenants), bad input and unknown ids', async () => {
      const { store } = h();
      const a = await store.createTenant({ name: uniqueName('tenant') });
      const b = await store.createTenant({ name: uniqueName('tenant') });
      const key = newApiKey();
      await store.createApiKey({ tenantId: a.id, name: 'ci', scope: 'write', ...key });
      await expect(
        store.createApiKey({ tenantId: b.id, name: 'ci', scope: 'write', ...key }),
      ).rejects.toBeInstanceOf(AlreadyExistsError);
      const other = newApiKey();
      const bad = [
        { scope: 'root', field: 'scope' },
        { keyHash: other.keyHash.toUpperCase(), field: 'keyHash' },
        { keyHash: other.key, field: 'keyHash' },
        { prefix: other.key, field: 'prefix' },
        { name: '  ', field: 'name' },
      ];
      for (const { field, ...override } of bad) {
        const input = { tenantId: a.id, name: 'x', scope: 'read', ...other, ...override } as Parameters<
          typeof store.createApiKey
        >[0];
        const error = await store.createApiKey(input).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreValidationError);
        expect(error).toMatchObject({ field });
      }
      await expect(store.findApiKeyByHash('abc')).rejects.toBeInstanceOf(StoreValidationError);
      const ghost = '00000000-0000-4000-8000-000000000000';
      await expect(
        store.createApiKey({ tenantId: ghost, name: 'x', scope: 'read', ...other }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.revokeApiKey(ghost)).rejects.toBeInstanceOf(NotFoundError);
    });
  });
}
