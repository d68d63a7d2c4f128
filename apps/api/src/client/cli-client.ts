import { readApiEnv } from '../env.js';
import { readSavedAdminKey } from './admin-key-file.js';
import { PeerClient } from './peer-client.js';

/** The options every client command takes (`parseArgs` shape). */
export const CLIENT_OPTIONS = {
  /** Server URL; default `PEER_URL` or http://127.0.0.1:8787. */
  url: { type: 'string' },
  /** API key; default `PEER_API_KEY`. */
  key: { type: 'string' },
} as const;

/**
 * A client for `--url`/`--key`, falling back to `PEER_URL`/`PEER_API_KEY`, and for the key last to the admin
 * key a local `peer serve` saved in `<DATA_DIR>/admin-key` (the newcomer's setup: one machine, one user).
 */
export async function clientFromArgs(values: {
  url?: string | undefined;
  key?: string | undefined;
}): Promise<PeerClient> {
  const env = readApiEnv();
  const key = values.key ?? env.PEER_API_KEY ?? (await readSavedAdminKey(env.DATA_DIR));
  return new PeerClient({ url: values.url ?? env.PEER_URL, ...(key ? { key } : {}) });
}

/** Prints a command's result as pretty JSON on stdout (stderr carries progress and notes). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
