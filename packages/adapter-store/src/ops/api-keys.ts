import { randomUUID } from 'node:crypto';
import { and, asc, count, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { AlreadyExistsError, NotFoundError } from '../errors.js';
import { apiKeys } from '../schema/index.js';
import type { ApiKeyRecord, ApiKeyScope } from '../types-jobs.js';
import { checkId, checkLabel, checkOneOf, checkSha256, MAX_NAME_LENGTH } from '../validation.js';
import { guard, type StoreContext } from './context.js';
import { toApiKey } from './rows.js';
import { getTenant } from './tenants.js';

/** The scopes a key can have. */
export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['read', 'write', 'admin'];
/** Longest display prefix of a key. */
export const MAX_API_KEY_PREFIX_LENGTH = 12;
/**
 * `last_used_at` is refreshed at most this often: the lookup runs on every request, and rewriting the
 * row each time would turn every read into a write (and a dead tuple).
 */
const LAST_USED_RESOLUTION = sql`interval '1 minute'`;

/** Stores a tenant's API key by its sha256; the hash is unique (`AlreadyExistsError`). */
export async function createApiKey(
  ctx: StoreContext,
  input: { tenantId: string; name: string; scope: ApiKeyScope; prefix: string; keyHash: string },
): Promise<ApiKeyRecord> {
  const tenantId = checkId(ctx.name, 'tenantId', input?.tenantId);
  const name = checkLabel(ctx.name, 'name', input.name, MAX_NAME_LENGTH);
  const scope = checkOneOf(ctx.name, 'scope', input.scope, API_KEY_SCOPES);
  const prefix = checkLabel(ctx.name, 'prefix', input.prefix, MAX_API_KEY_PREFIX_LENGTH);
  const keyHash = checkSha256(ctx.name, 'keyHash', input.keyHash);
  return guard(ctx, 'createApiKey', async () => {
    await getTenant(ctx, tenantId);
    const [row] = await ctx.driver.db
      .insert(apiKeys)
      .values({ id: randomUUID(), tenantId, name, scope, prefix, keyHash })
      .onConflictDoNothing()
      .returning();
    // The key itself is unknown here; its prefix is what people recognise.
    if (!row) throw new AlreadyExistsError(ctx.name, 'api key', prefix);
    return toApiKey(row);
  });
}

/**
 * The live (not revoked) key with this sha256, or undefined. Records the use in `lastUsedAt`, at most
 * once a minute per key.
 */
export async function findApiKeyByHash(
  ctx: StoreContext,
  keyHash: string,
): Promise<ApiKeyRecord | undefined> {
  checkSha256(ctx.name, 'keyHash', keyHash);
  return guard(ctx, 'findApiKeyByHash', async () => {
    const live = and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt));
    const [row] = await ctx.driver.db.select().from(apiKeys).where(live);
    if (!row) return undefined;
    const fresh = row.lastUsedAt && Date.now() - row.lastUsedAt.getTime() < 60_000;
    if (fresh) return toApiKey(row);
    // Conditional, so concurrent requests (and a revocation racing this one) are decided by the row lock.
    const [touched] = await ctx.driver.db
      .update(apiKeys)
      .set({ lastUsedAt: sql`now()` })
      .where(
        and(
          live,
          or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, sql`now() - ${LAST_USED_RESOLUTION}`)),
        ),
      )
      .returning();
    if (touched) return toApiKey(touched);
    const [again] = await ctx.driver.db.select().from(apiKeys).where(live);
    return again ? toApiKey(again) : undefined;
  });
}

/** All keys of a tenant, revoked ones included (with `revokedAt`), oldest first. */
export async function listApiKeys(ctx: StoreContext, tenantId: string): Promise<ApiKeyRecord[]> {
  checkId(ctx.name, 'tenantId', tenantId);
  return guard(ctx, 'listApiKeys', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.tenantId, tenantId))
      .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
    return rows.map(toApiKey);
  });
}

/** Revokes a key (idempotent: revoking again keeps the first `revokedAt`); returns the revoked record. */
export async function revokeApiKey(ctx: StoreContext, id: string): Promise<ApiKeyRecord> {
  checkId(ctx.name, 'apiKeyId', id);
  return guard(ctx, 'revokeApiKey', async () => {
    const [row] = await ctx.driver.db
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning();
    if (row) return toApiKey(row);
    const [already] = await ctx.driver.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    if (!already) throw new NotFoundError(ctx.name, 'api key', id);
    return toApiKey(already);
  });
}

/**
 * How many keys exist across all tenants: live ones only by default (so the API can re-bootstrap an
 * admin key when every key was revoked), or all with `includeRevoked`.
 */
export async function countApiKeys(
  ctx: StoreContext,
  options: { includeRevoked?: boolean } = {},
): Promise<number> {
  return guard(ctx, 'countApiKeys', async () => {
    const [row] = await ctx.driver.db
      .select({ n: count() })
      .from(apiKeys)
      .where(options.includeRevoked ? undefined : isNull(apiKeys.revokedAt));
    return row?.n ?? 0;
  });
}
