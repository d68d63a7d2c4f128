import { createHash, randomBytes } from 'node:crypto';
import type { AdapterStore, ApiKeyRecord, ApiKeyScope } from '@peer/adapter-store';

/** Keys look like `peer_<43 base64url chars>`: 256 random bits, so a plain sha256 at rest is enough. */
export const KEY_PATTERN = /^peer_[A-Za-z0-9_-]{20,200}$/;

/** A fresh random API key. */
export function generateApiKey(): string {
  return `peer_${randomBytes(32).toString('base64url')}`;
}

/**
 * sha256 of the key. Keys are random 256-bit secrets, not passwords, so a slow KDF buys nothing and would
 * cost milliseconds on every request; the database never holds a usable key.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Stores a key (hashed) for a tenant, creating the tenant when `tenantName` is new; returns the plaintext once. */
export async function issueApiKey(
  store: AdapterStore,
  input: { tenantName: string; name: string; scope: ApiKeyScope; key?: string },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const tenant =
    (await store.findTenantByName(input.tenantName)) ??
    (await store.createTenant({ name: input.tenantName }));
  const key = input.key ?? generateApiKey();
  const record = await store.createApiKey({
    tenantId: tenant.id,
    name: input.name,
    scope: input.scope,
    prefix: key.slice(0, 12),
    keyHash: hashApiKey(key),
  });
  return { key, record };
}

/**
 * First start: with no key at all, create tenant `default` and an admin key (the given one, or a generated
 * one that the caller prints once). A given key that is not stored yet is added; otherwise nothing happens.
 */
export async function bootstrapAdminKey(
  store: AdapterStore,
  givenKey: string | undefined,
): Promise<{ key: string; created: boolean } | undefined> {
  if (givenKey) {
    if (await store.findApiKeyByHash(hashApiKey(givenKey))) return { key: givenKey, created: false };
    await issueApiKey(store, {
      tenantName: 'default',
      name: 'bootstrap-admin',
      scope: 'admin',
      key: givenKey,
    });
    return { key: givenKey, created: true };
  }
  if ((await store.countApiKeys()) > 0) return undefined;
  const { key } = await issueApiKey(store, {
    tenantName: 'default',
    name: 'bootstrap-admin',
    scope: 'admin',
  });
  return { key, created: true };
}
