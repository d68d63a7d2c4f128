import { and, asc, eq, sql } from 'drizzle-orm';
import { AlreadyExistsError, NotFoundError } from '../errors.js';
import { regularizationBlocks, regularizationStates, versions } from '../schema/index.js';
import type { BlockSource, JsonValue } from '../types.js';
import type { RegularizationState } from '../types-data.js';
import { checkId, checkJson, checkName } from '../validation.js';
import { collect, streamBlocks } from './block-reader.js';
import { writeBlocks } from './block-writer.js';
import { guard, lockBlocksShared, type StoreContext } from './context.js';
import { byName, manifestJson } from './manifest.js';
import { toManifestEntry } from './rows.js';

/**
 * Stores a version's regularization state for one method (e.g. `ewc`: anchor weights and Fisher
 * diagonals; `l2sp`: anchors). Written once per (version, method) — like the version, it is immutable;
 * online EWC writes the accumulated state of the *new* version instead of updating the old one.
 */
export async function saveRegularization(
  ctx: StoreContext,
  input: { versionId: string; method: string; meta?: JsonValue; tensors: BlockSource },
): Promise<{ writtenBlocks: number; writtenBytes: number; reusedBlocks: number }> {
  const versionId = checkId(ctx.name, 'versionId', input?.versionId);
  const method = checkName(ctx.name, 'method', input.method);
  const meta = input.meta ?? {};
  checkJson(ctx.name, 'meta', meta);
  return guard(ctx, 'saveRegularization', () =>
    ctx.driver.transaction(async (tx) => {
      await lockBlocksShared(tx.db);
      const [version] = await tx.db
        .select({ id: versions.id })
        .from(versions)
        .where(eq(versions.id, versionId));
      if (!version) throw new NotFoundError(ctx.name, 'version', versionId);
      const [state] = await tx.db
        .insert(regularizationStates)
        .values({ versionId, method, meta })
        .onConflictDoNothing()
        .returning();
      if (!state) throw new AlreadyExistsError(ctx.name, 'regularization state', `${versionId}/${method}`);
      const written = await writeBlocks(ctx, tx, input.tensors, 'tensors');
      if (written.entries.length > 0) {
        await tx.db.execute(sql`
          insert into ${regularizationBlocks} ("version_id", "method", "name", "block_hash", "dtype", "shape", "byte_length")
          select ${versionId}::uuid, ${method}, e->>'name', e->>'hash', e->>'dtype', e->'shape', (e->>'bytes')::bigint
          from jsonb_array_elements(${manifestJson(written.entries)}::jsonb) as e`);
      }
      return {
        writtenBlocks: written.writtenBlocks,
        writtenBytes: written.writtenBytes,
        reusedBlocks: written.reusedBlocks,
      };
    }),
  );
}

/** Loads one regularization state with its tensors (hash-verified), or `NotFoundError`. */
export async function loadRegularization(
  ctx: StoreContext,
  versionId: string,
  method: string,
): Promise<RegularizationState> {
  checkId(ctx.name, 'versionId', versionId);
  checkName(ctx.name, 'method', method);
  return guard(ctx, 'loadRegularization', async () => {
    const db = ctx.driver.db;
    const [state] = await db
      .select()
      .from(regularizationStates)
      .where(and(eq(regularizationStates.versionId, versionId), eq(regularizationStates.method, method)));
    if (!state) throw new NotFoundError(ctx.name, 'regularization state', `${versionId}/${method}`);
    const rows = await db
      .select()
      .from(regularizationBlocks)
      .where(and(eq(regularizationBlocks.versionId, versionId), eq(regularizationBlocks.method, method)));
    const entries = rows.map(toManifestEntry).sort(byName);
    const tensors = await collect(streamBlocks(ctx, entries));
    return { versionId, method, meta: state.meta as JsonValue, tensors };
  });
}

/** Methods that have a stored state for a version. */
export async function listRegularization(ctx: StoreContext, versionId: string): Promise<string[]> {
  checkId(ctx.name, 'versionId', versionId);
  return guard(ctx, 'listRegularization', async () => {
    const rows = await ctx.driver.db
      .select({ method: regularizationStates.method })
      .from(regularizationStates)
      .where(eq(regularizationStates.versionId, versionId))
      .orderBy(asc(regularizationStates.method));
    return rows.map((r) => r.method);
  });
}
