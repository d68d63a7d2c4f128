import { randomUUID } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { StoreTx } from '../drivers/driver.js';
import { AlreadyExistsError, NotFoundError, StoreValidationError, VersionConflictError } from '../errors.js';
import { models, versions } from '../schema/index.js';
import type { CommitInput, CommitResult, JsonValue, Version } from '../types.js';
import { checkBlockName, checkId, checkJson } from '../validation.js';
import { writeBlocks } from './block-writer.js';
import { constraintName, guard, lockBlocksShared, type StoreContext, sqlState } from './context.js';
import { checkCommitMeta, checkLineageStream } from './lineage-input.js';
import { insertManifest, manifestHash, mergeManifest, readManifest } from './manifest.js';
import { toModel, toVersion } from './rows.js';

/** Extra per-kind work done inside the commit transaction, after the version row exists. */
export interface CommitHooks {
  readonly kind: 'model' | 'adapter';
  afterInsert?(tx: StoreTx, version: Version): Promise<void>;
}

/**
 * Commits a version in one transaction (copy-on-write): new/changed blocks are written (only the
 * absent ones), the parent's other blocks are referenced, the version row and its manifest are
 * inserted, and the line's head advances.
 *
 * Concurrency rule: a line has one head. A commit names the head it saw (`expectedHeadId`, default
 * `parentId`); the head is advanced by `UPDATE ... WHERE head_version_id IS NOT DISTINCT FROM expected`,
 * so of two writers that saw the same head exactly one matches and the other gets
 * `VersionConflictError` — never a lost update. The parent may be any version of the line (branching
 * after a rollback), but only by someone who saw the current head.
 *
 * A training job commits at most once: a `lineage.extra.jobId` that a version (of any line) already
 * carries is `AlreadyExistsError`. It is checked up front to fail before streaming bytes; the unique index
 * `versions_job_unique` decides when two commits of one job race.
 */
export async function commitLine(
  ctx: StoreContext,
  input: CommitInput,
  hooks: CommitHooks,
): Promise<CommitResult> {
  const driver = ctx.name;
  const modelId = checkId(driver, 'modelId', input?.modelId);
  const parentId = input.parentId === null ? null : checkId(driver, 'parentId', input.parentId);
  const expectedHead =
    input.expectedHeadId === undefined
      ? parentId
      : input.expectedHeadId === null
        ? null
        : checkId(driver, 'expectedHeadId', input.expectedHeadId);
  const removed = new Set(
    (input.removeBlocks ?? []).map((n, i) => checkBlockName(driver, `removeBlocks[${i}]`, n)),
  );
  if (input.config !== undefined) checkJson(driver, 'config', input.config);
  const meta = checkCommitMeta(driver, input);

  return guard(ctx, 'commitVersion', () =>
    ctx.driver.transaction(async (tx) => {
      await lockBlocksShared(tx.db);
      const [modelRow] = await tx.db.select().from(models).where(eq(models.id, modelId));
      if (!modelRow) throw new NotFoundError(driver, 'model', modelId);
      const model = toModel(modelRow);
      if (model.kind !== hooks.kind) {
        throw new StoreValidationError(
          driver,
          'modelId',
          `a line of kind '${hooks.kind}'`,
          `${model.kind} ${modelId}`,
        );
      }
      // Fail fast, before streaming any bytes; the conditional UPDATE below is what decides.
      if (model.headVersionId !== expectedHead) {
        throw new VersionConflictError(driver, modelId, 'head', expectedHead, model.headVersionId);
      }
      let parentConfig: JsonValue = model.config;
      if (parentId !== null) {
        const [parent] = await tx.db.select().from(versions).where(eq(versions.id, parentId));
        if (!parent) throw new NotFoundError(driver, 'version', parentId);
        if (parent.modelId !== modelId) {
          throw new StoreValidationError(driver, 'parentId', `a version of model ${modelId}`, parentId);
        }
        parentConfig = parent.config as JsonValue;
      }
      const jobId = meta.lineage.extra.jobId;
      if (jobId !== undefined && jobId !== null && (await versionOfJob(tx, jobId))) {
        throw new AlreadyExistsError(driver, 'version of job', String(jobId));
      }
      await checkLineageStream(tx.db, driver, meta.lineage.streamId, [
        modelId,
        ...(model.baseModelId ? [model.baseModelId] : []),
      ]);
      const parentManifest = parentId === null ? [] : await readManifest(tx.db, parentId);
      const parentNames = new Set(parentManifest.map((e) => e.name));
      for (const name of removed) {
        if (!parentNames.has(name))
          throw new StoreValidationError(driver, 'removeBlocks', 'names of parent blocks', name);
      }

      const written = await writeBlocks(ctx, tx, input.blocks);
      for (const e of written.entries) {
        if (removed.has(e.name))
          throw new StoreValidationError(driver, 'removeBlocks', 'names not also written', e.name);
      }
      const manifest = mergeManifest(parentManifest, written.entries, removed);

      const [bumped] = await tx.db
        .update(models)
        .set({ versionCount: sql`${models.versionCount} + 1` })
        .where(
          and(
            eq(models.id, modelId),
            expectedHead === null ? isNull(models.headVersionId) : eq(models.headVersionId, expectedHead),
          ),
        )
        .returning({ seq: models.versionCount });
      if (!bumped) {
        const [now] = await tx.db
          .select({ head: models.headVersionId })
          .from(models)
          .where(eq(models.id, modelId));
        throw new VersionConflictError(driver, modelId, 'head', expectedHead, now?.head ?? null);
      }

      const [row] = await tx.db
        .insert(versions)
        .values({
          id: randomUUID(),
          modelId,
          parentId,
          seq: bumped.seq,
          config: input.config ?? parentConfig,
          streamId: meta.lineage.streamId,
          ingestFrom: meta.lineage.ingestFrom,
          ingestTo: meta.lineage.ingestTo,
          lineage: meta.lineage.extra,
          metrics: meta.metrics,
          message: meta.message,
          author: meta.author,
          blockCount: manifest.length,
          totalBytes: manifest.reduce((n, e) => n + e.byteLength, 0),
          contentHash: manifestHash(manifest),
        })
        .returning()
        .catch((error: unknown) => {
          if (sqlState(error) === '23505' && constraintName(error) === 'versions_job_unique') {
            throw new AlreadyExistsError(driver, 'version of job', String(jobId), { cause: error });
          }
          throw error;
        });
      if (!row) throw new Error('insert into versions returned no row');
      await insertManifest(tx.db, row.id, manifest);
      await tx.db.update(models).set({ headVersionId: row.id }).where(eq(models.id, modelId));
      const version = toVersion(row);
      await hooks.afterInsert?.(tx, version);
      return {
        version,
        writtenBlocks: written.writtenBlocks,
        writtenBytes: written.writtenBytes,
        reusedBlocks: written.reusedBlocks,
        inheritedBlocks: manifest.length - written.entries.length,
      };
    }),
  );
}

/** Whether some version already carries this job id (the expression of `versions_job_unique`). */
async function versionOfJob(tx: StoreTx, jobId: JsonValue): Promise<boolean> {
  // `->>` renders the stored value as text; a string parameter compares equal exactly when it is a string.
  if (typeof jobId !== 'string') return false; // the unique index still decides for other JSON values
  const [row] = await tx.db
    .select({ id: versions.id })
    .from(versions)
    .where(sql`(${versions.lineage} ->> 'jobId') = ${jobId}`)
    .limit(1);
  return row !== undefined;
}
