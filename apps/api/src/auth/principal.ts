import type { ApiKeyScope } from '@peer/adapter-store';

/** Scopes in increasing power: each one includes those before it. */
export const SCOPES: readonly ApiKeyScope[] = ['read', 'write', 'admin'];

/** Who is calling: the API key, its tenant and its scope. */
export interface Principal {
  readonly keyId: string;
  readonly tenantId: string;
  readonly scope: ApiKeyScope;
}

/** Whether `granted` includes `required` (admin ⊃ write ⊃ read). */
export function scopeIncludes(granted: ApiKeyScope, required: ApiKeyScope): boolean {
  return SCOPES.indexOf(granted) >= SCOPES.indexOf(required);
}
