import type { ApiKeyScope } from '@peer/adapter-store';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { hashApiKey, KEY_PATTERN } from './api-keys.js';
import { type Principal, scopeIncludes } from './principal.js';

/** How long a resolved key is trusted without asking the database again (so a revocation takes ≤ this). */
const KEY_CACHE_MS = 5_000;

/** Resolves `Authorization: Bearer <key>` to a principal, with a short cache so predict stays one lookup-free. */
export class KeyResolver {
  private readonly cache = new Map<string, { principal: Principal | undefined; until: number }>();

  constructor(private readonly find: (hash: string) => Promise<Principal | undefined>) {}

  /** Forgets every cached key (this replica sees a revocation at once; others within `KEY_CACHE_MS`). */
  invalidate(): void {
    this.cache.clear();
  }

  async resolve(header: string | undefined): Promise<Principal> {
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    const key = match?.[1];
    if (!key) throw new ApiError(401, 'unauthorized', 'missing API key: send "Authorization: Bearer <key>"');
    if (!KEY_PATTERN.test(key)) throw new ApiError(401, 'unauthorized', 'invalid API key');
    const hash = hashApiKey(key);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || entry.until < now) {
      entry = { principal: await this.find(hash), until: now + KEY_CACHE_MS };
      if (this.cache.size > 10_000) this.cache.clear(); // bounded: a flood of random keys cannot grow it
      this.cache.set(hash, entry);
    }
    if (!entry.principal) throw new ApiError(401, 'unauthorized', 'invalid API key');
    return entry.principal;
  }
}

/** Requires a key with at least `scope`; 401 without a valid key, 403 when its scope is too small. */
export function requireScope(scope: ApiKeyScope) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const services = c.get('services');
    const principal = await services.keys.resolve(c.req.header('authorization'));
    if (!scopeIncludes(principal.scope, scope)) {
      throw new ApiError(
        403,
        'forbidden',
        `this operation needs scope '${scope}', the key has '${principal.scope}'`,
        {
          required: scope,
          granted: principal.scope,
        },
      );
    }
    c.set('principal', principal);
    services.rateLimiter.take(principal.keyId);
    await next();
  });
}
