import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where `peer serve` saves the bootstrap admin key it generated on first start (mode 0600). */
export function adminKeyFile(dataDir: string): string {
  return join(dataDir, 'admin-key');
}

/** The saved bootstrap admin key of a local deployment, if this user can read it. */
export async function readSavedAdminKey(dataDir: string): Promise<string | undefined> {
  try {
    const key = (await readFile(adminKeyFile(dataDir), 'utf8')).trim();
    return key.length > 0 ? key : undefined;
  } catch {
    return undefined;
  }
}
