import type { TensorBlock } from '@peer/core/serialization';
import { and, asc, eq, or, sql } from 'drizzle-orm';
import { NotFoundError, StoreValidationError } from '../errors.js';
import { aliases, models, versions } from '../schema/index.js';
import type { ManifestEntry, Version } from '../types.js';
import { checkBlockName, checkId } from '../validation.js';
import { streamBlocks } from './block-reader.js';
import { guard, lockBlocksShared, type StoreContext } from './context.js';
import { readManifest } from './manifest.js';
import { toVersion } from './rows.js';

/** A version by id. */
export async function getVersion(ctx: StoreContext, id: string): Promise<Version> {
  checkId(ctx.name, 'versionId', id);
  return guard(ctx, 'getVersion', async () => {
    const [row] = await ctx.driver.db.select().from(versions).where(eq(versions.id, id));
    if (!row) throw new NotFoundError(ctx.name, 'version', id);
    return toVersion(row);
  });
}

/** All versions of a line in commit order (a tree: follow `parentId`). */
export async function listVersions(ctx: StoreContext, modelId: string): Promise<Version[]> {
  checkId(ctx.name, 'modelId', modelId);
  return guard(ctx, 'listVersions', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(versions)
      .where(eq(versions.modelId, modelId))
      .orderBy(asc(versions.seq));
    return rows.map(toVersion);
  });
}

/**
 * The version a job committed (`lineage.extra.jobId`), on the model's own line or on one of its
 * adapters' lines (where `train-adapter` jobs commit), or undefined. A job commits at most once, so
 * there is never more than one. Lets a re-claimed job find out that its crashed predecessor already
 * committed before training again.
 */
export async function findVersionByJob(
  ctx: StoreContext,
  modelId: string,
  jobId: string,
): Promise<Version | undefined> {
  checkId(ctx.name, 'modelId', modelId);
  checkId(ctx.name, 'jobId', jobId);
  return guard(ctx, 'findVersionByJob', async () => {
    const [found] = await ctx.driver.db
      .select({ version: versions })
      .from(versions)
      .innerJoin(models, eq(models.id, versions.modelId))
      .where(
        and(
          // The expression of the unique index `versions_job_unique`, so this is an index lookup.
          sql`(${versions.lineage} ->> 'jobId') = ${jobId}`,
          or(eq(versions.modelId, modelId), eq(models.baseModelId, modelId)),
        ),
      )
      .limit(1);
    return found ? toVersion(found.version) : undefined;
  });
}

/** The ancestry of a version: itself, its parent, ..., the line's first version. */
export async function lineage(ctx: StoreContext, versionId: string): Promise<Version[]> {
  return guard(ctx, 'lineage', async () => {
    const start = await getVersion(ctx, versionId);
    const all = new Map((await listVersions(ctx, start.modelId)).map((v) => [v.id, v]));
    const chain: Version[] = [];
    for (let v: Version | undefined = start; v; v = v.parentId ? all.get(v.parentId) : undefined)
      chain.push(v);
    return chain;
  });
}

/** The manifest (names, hashes, dtypes, shapes) of a version, sorted by name. */
export async function getManifest(ctx: StoreContext, versionId: string): Promise<ManifestEntry[]> {
  return guard(ctx, 'getManifest', async () => {
    await getVersion(ctx, versionId);
    return readManifest(ctx.driver.db, versionId);
  });
}

/**
 * Streams a version's blocks (all, or only `names`) in name order, each verified against its sha256.
 * Resolves the manifest first, so an unknown version or name fails before any data moves.
 */
export async function* loadBlocks(
  ctx: StoreContext,
  versionId: string,
  options: { names?: readonly string[] } = {},
): AsyncGenerator<TensorBlock> {
  const wanted = options.names?.map((n, i) => checkBlockName(ctx.name, `names[${i}]`, n));
  const manifest = await getManifest(ctx, versionId);
  let entries = manifest;
  if (wanted) {
    const byName = new Map(manifest.map((e) => [e.name, e]));
    entries = wanted.map((name) => {
      const entry = byName.get(name);
      if (!entry) throw new NotFoundError(ctx.name, 'block', `${versionId}/${name}`);
      return entry;
    });
  }
  yield* streamBlocks(ctx, entries);
}

/**
 * Deletes a version nobody depends on: not a head, not aliased, no children. Its blocks stay until
 * `collectGarbage()` finds them unreferenced. (The alias log keeps mentioning it: history is history.)
 */
export async function deleteVersion(ctx: StoreContext, versionId: string): Promise<void> {
  checkId(ctx.name, 'versionId', versionId);
  return guard(ctx, 'deleteVersion', () =>
    ctx.driver.transaction(async (tx) => {
      await lockBlocksShared(tx.db);
      const [row] = await tx.db.select().from(versions).where(eq(versions.id, versionId)).for('update');
      if (!row) throw new NotFoundError(ctx.name, 'version', versionId);
      const inUse = async (why: string, found: Promise<unknown[]>) => {
        if ((await found).length > 0) {
          throw new StoreValidationError(ctx.name, 'versionId', `a version that is not ${why}`, versionId);
        }
      };
      await inUse(
        'a head',
        tx.db.select({ id: models.id }).from(models).where(eq(models.headVersionId, versionId)),
      );
      await inUse(
        'aliased',
        tx.db.select({ n: aliases.name }).from(aliases).where(eq(aliases.versionId, versionId)),
      );
      await inUse(
        'a parent',
        tx.db.select({ id: versions.id }).from(versions).where(eq(versions.parentId, versionId)).limit(1),
      );
      await tx.db.delete(versions).where(eq(versions.id, versionId));
    }),
  );
}
