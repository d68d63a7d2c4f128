import { parseArgs } from 'node:util';
import type { ApiKeyScope } from '@peer/adapter-store';
import { issueApiKey } from '../../auth/api-keys.js';
import { SCOPES } from '../../auth/principal.js';
import { readApiEnv } from '../../env.js';
import { openApiStore } from '../../open-api-store.js';
import { CliError } from '../cli-error.js';

/** `peer keys create --tenant NAME [--scope read|write|admin] [--name LABEL]`: prints a new key once. */
export async function keysCommand(args: string[]): Promise<void> {
  const [action, ...rest] = args;
  if (action !== 'create')
    throw new CliError(`unknown keys action ${JSON.stringify(action)} (expected: create)`);
  const { values } = parseArgs({
    args: rest,
    options: {
      tenant: { type: 'string', default: 'default' },
      scope: { type: 'string', default: 'write' },
      name: { type: 'string', default: 'cli' },
    },
  });
  const scope = values.scope as ApiKeyScope;
  if (!SCOPES.includes(scope))
    throw new CliError(`--scope must be one of ${SCOPES.join(', ')}, got ${values.scope}`);
  const store = await openApiStore(readApiEnv());
  try {
    const { key, record } = await issueApiKey(store, { tenantName: values.tenant, name: values.name, scope });
    process.stdout.write(`${key}\n`);
    process.stderr.write(`key ${record.prefix}… (${scope}) for tenant ${values.tenant}\n`);
  } finally {
    await store.close();
  }
}
