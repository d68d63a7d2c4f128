import postgres from 'postgres';

/**
 * Creates a uniquely named database on the server of `url` (the role needs CREATEDB); `drop` removes it
 * (with force, so a SIGKILLed server's leftover connections do not block it). Same idea as the root
 * `tests/support/throwaway-database.ts`, kept here so the API's tests do not reach across workspaces.
 */
export async function throwawayDatabase(
  url: string,
  label = 'api',
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `peer_${label}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end({ timeout: 5 });
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    drop: async () => {
      const cleaner = postgres(url, { max: 1, onnotice: () => {} });
      await cleaner.unsafe(`drop database if exists "${name}" with (force)`);
      await cleaner.end({ timeout: 5 });
    },
  };
}
