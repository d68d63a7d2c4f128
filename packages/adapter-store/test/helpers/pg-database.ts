import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/**
 * A throw-away PostgreSQL database for one test file, created through the server's maintenance
 * connection and dropped (WITH FORCE) afterwards. A whole database rather than a schema, because the
 * drizzle-kit migrations reference tables as "public"."...".
 */
export async function createTestDatabase(
  baseUrl: string,
  label: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `adapter_store_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = postgres(baseUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end({ timeout: 1 });
      }
    },
  };
}

/** Runs raw SQL against a database on a one-shot connection (fault injection and measurements in tests). */
export function rawSql(url: string): {
  query(text: string): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
} {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  return {
    async query(text) {
      return [...(await client.unsafe(text))] as Array<Record<string, unknown>>;
    },
    close: () => client.end({ timeout: 1 }),
  };
}
