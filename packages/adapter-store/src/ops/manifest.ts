import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../drivers/driver.js';
import { versionBlocks } from '../schema/index.js';
import type { ManifestEntry } from '../types.js';
import { toManifestEntry } from './rows.js';

/** Code-unit order, identical in JS and in SQL with `collate "C"` (never locale-dependent). */
export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** A version's manifest, sorted by name. */
export async function readManifest(db: Db, versionId: string): Promise<ManifestEntry[]> {
  const rows = await db
    .select({
      name: versionBlocks.name,
      blockHash: versionBlocks.blockHash,
      dtype: versionBlocks.dtype,
      shape: versionBlocks.shape,
      byteLength: versionBlocks.byteLength,
    })
    .from(versionBlocks)
    .where(eq(versionBlocks.versionId, versionId))
    .orderBy(sql`${versionBlocks.name} collate "C"`);
  return rows.map(toManifestEntry);
}

/**
 * sha256 over the sorted `name, hash, dtype, shape` lines: the version's content identity. Two versions
 * with identical blocks hash the same, so caches keyed by it can never serve stale weights under a
 * reused name (the stale-adapter-cache bug of name-keyed LoRA servers).
 */
export function manifestHash(entries: readonly ManifestEntry[]): string {
  const hash = createHash('sha256');
  for (const e of [...entries].sort(byName)) {
    hash.update(`${e.name}\t${e.hash}\t${e.dtype}\t${e.shape.join('x')}\n`);
  }
  return hash.digest('hex');
}

/** Parent manifest with `replaced` entries swapped in and `removed` names dropped, sorted by name. */
export function mergeManifest(
  parent: readonly ManifestEntry[],
  replaced: readonly ManifestEntry[],
  removed: ReadonlySet<string>,
): ManifestEntry[] {
  const byKey = new Map(parent.map((e) => [e.name, e]));
  for (const name of removed) byKey.delete(name);
  for (const e of replaced) byKey.set(e.name, e);
  return [...byKey.values()].sort(byName);
}

/** Manifest entries as one JSON parameter, expanded server-side by `jsonb_array_elements`. */
export function manifestJson(entries: readonly ManifestEntry[]): string {
  return JSON.stringify(
    entries.map((e) => ({ name: e.name, hash: e.hash, dtype: e.dtype, shape: e.shape, bytes: e.byteLength })),
  );
}

/** Inserts manifest rows for `versionId` in one statement, whatever their number. */
export async function insertManifest(
  db: Db,
  versionId: string,
  entries: readonly ManifestEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await db.execute(sql`
    insert into ${versionBlocks} ("version_id", "name", "block_hash", "dtype", "shape", "byte_length")
    select ${versionId}::uuid, e->>'name', e->>'hash', e->>'dtype', e->'shape', (e->>'bytes')::bigint
    from jsonb_array_elements(${manifestJson(entries)}::jsonb) as e`);
}
