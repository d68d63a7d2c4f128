import { and, asc, desc, eq } from 'drizzle-orm';
import type { Db } from '../drivers/driver.js';
import { AlreadyExistsError, NotFoundError, StoreValidationError, VersionConflictError } from '../errors.js';
import { aliases, aliasLog, versions } from '../schema/index.js';
import type { MoveAuthor } from '../store.js';
import type { Alias, AliasMove } from '../types.js';
import { checkId, checkName, checkText } from '../validation.js';
import { guard, type StoreContext } from './context.js';
import { notifyAlias } from './notify.js';
import { toAlias, toAliasMove } from './rows.js';

/**
 * Creates an alias pointing at a version of the model; an existing name is `AlreadyExistsError`.
 * Announced on `ALIAS_CHANNEL` once committed (as are moves and rollbacks).
 */
export async function createAlias(
  ctx: StoreContext,
  input: { modelId: string; name: string; versionId: string } & MoveAuthor,
): Promise<Alias> {
  const { modelId, name, versionId, actor, reason } = checkMove(ctx, input);
  return guard(ctx, 'createAlias', () =>
    ctx.driver.transaction(async (tx) => {
      await checkVersionOf(ctx, tx.db, modelId, versionId);
      const [row] = await tx.db
        .insert(aliases)
        .values({ modelId, name, versionId })
        .onConflictDoNothing()
        .returning();
      if (!row) throw new AlreadyExistsError(ctx.name, 'alias', `${modelId}/${name}`);
      await tx.db
        .insert(aliasLog)
        .values({ modelId, name, fromVersionId: null, toVersionId: versionId, actor, reason });
      await notifyAlias(tx.db, row);
      return toAlias(row);
    }),
  );
}

/**
 * Moves an alias (this is how a version is promoted or rolled back) and logs the move. With
 * `expectedVersionId` the move only happens if the alias still points there (`VersionConflictError`).
 */
export async function moveAlias(
  ctx: StoreContext,
  input: { modelId: string; name: string; versionId: string; expectedVersionId?: string } & MoveAuthor,
): Promise<Alias> {
  const { modelId, name, versionId, actor, reason } = checkMove(ctx, input);
  const expected =
    input.expectedVersionId === undefined
      ? undefined
      : checkId(ctx.name, 'expectedVersionId', input.expectedVersionId);
  return guard(ctx, 'moveAlias', () =>
    ctx.driver.transaction(async (tx) => {
      const current = await lockAlias(ctx, tx.db, modelId, name);
      if (expected !== undefined && current.versionId !== expected) {
        throw new VersionConflictError(ctx.name, modelId, `alias '${name}'`, expected, current.versionId);
      }
      await checkVersionOf(ctx, tx.db, modelId, versionId);
      return move(tx.db, current, versionId, actor, reason);
    }),
  );
}

/** Moves an alias back to where it pointed before its last move (a rollback is itself logged). */
export async function rollbackAlias(
  ctx: StoreContext,
  input: { modelId: string; name: string } & MoveAuthor,
): Promise<Alias> {
  const modelId = checkId(ctx.name, 'modelId', input?.modelId);
  const name = checkName(ctx.name, 'name', input.name);
  const actor = checkText(ctx.name, 'actor', input.actor, 200);
  const reason = checkText(ctx.name, 'reason', input.reason ?? 'rollback');
  return guard(ctx, 'rollbackAlias', () =>
    ctx.driver.transaction(async (tx) => {
      const current = await lockAlias(ctx, tx.db, modelId, name);
      const [last] = await tx.db
        .select()
        .from(aliasLog)
        .where(and(eq(aliasLog.modelId, modelId), eq(aliasLog.name, name)))
        .orderBy(desc(aliasLog.id))
        .limit(1);
      const previous = last?.fromVersionId;
      if (!previous)
        throw new StoreValidationError(ctx.name, 'name', 'an alias that has been moved before', name);
      await checkVersionOf(ctx, tx.db, modelId, previous);
      return move(tx.db, current, previous, actor, reason);
    }),
  );
}

/** The alias, or `NotFoundError`. */
export async function getAlias(ctx: StoreContext, modelId: string, name: string): Promise<Alias> {
  checkId(ctx.name, 'modelId', modelId);
  checkName(ctx.name, 'name', name);
  return guard(ctx, 'getAlias', async () => {
    const [row] = await ctx.driver.db
      .select()
      .from(aliases)
      .where(and(eq(aliases.modelId, modelId), eq(aliases.name, name)));
    if (!row) throw new NotFoundError(ctx.name, 'alias', `${modelId}/${name}`);
    return toAlias(row);
  });
}

/** All aliases of a model, by name. */
export async function listAliases(ctx: StoreContext, modelId: string): Promise<Alias[]> {
  checkId(ctx.name, 'modelId', modelId);
  return guard(ctx, 'listAliases', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(aliases)
      .where(eq(aliases.modelId, modelId))
      .orderBy(asc(aliases.name));
    return rows.map(toAlias);
  });
}

/** Every move of an alias, oldest first. */
export async function aliasHistory(ctx: StoreContext, modelId: string, name: string): Promise<AliasMove[]> {
  checkId(ctx.name, 'modelId', modelId);
  checkName(ctx.name, 'name', name);
  return guard(ctx, 'aliasHistory', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(aliasLog)
      .where(and(eq(aliasLog.modelId, modelId), eq(aliasLog.name, name)))
      .orderBy(asc(aliasLog.id));
    return rows.map(toAliasMove);
  });
}

function checkMove(
  ctx: StoreContext,
  input: { modelId: string; name: string; versionId: string } & MoveAuthor,
) {
  return {
    modelId: checkId(ctx.name, 'modelId', input?.modelId),
    name: checkName(ctx.name, 'name', input.name),
    versionId: checkId(ctx.name, 'versionId', input.versionId),
    actor: checkText(ctx.name, 'actor', input.actor, 200),
    reason: checkText(ctx.name, 'reason', input.reason ?? ''),
  };
}

async function lockAlias(ctx: StoreContext, db: Db, modelId: string, name: string): Promise<Alias> {
  const [row] = await db
    .select()
    .from(aliases)
    .where(and(eq(aliases.modelId, modelId), eq(aliases.name, name)))
    .for('update');
  if (!row) throw new NotFoundError(ctx.name, 'alias', `${modelId}/${name}`);
  return toAlias(row);
}

async function checkVersionOf(ctx: StoreContext, db: Db, modelId: string, versionId: string): Promise<void> {
  const [row] = await db
    .select({ modelId: versions.modelId })
    .from(versions)
    .where(eq(versions.id, versionId));
  if (!row) throw new NotFoundError(ctx.name, 'version', versionId);
  if (row.modelId !== modelId)
    throw new StoreValidationError(ctx.name, 'versionId', `a version of model ${modelId}`, versionId);
}

async function move(db: Db, current: Alias, to: string, actor: string, reason: string): Promise<Alias> {
  if (current.versionId === to) return current; // nothing moved, nothing to log
  const [row] = await db
    .update(aliases)
    .set({ versionId: to, updatedAt: new Date() })
    .where(and(eq(aliases.modelId, current.modelId), eq(aliases.name, current.name)))
    .returning();
  await db.insert(aliasLog).values({
    modelId: current.modelId,
    name: current.name,
    fromVersionId: current.versionId,
    toVersionId: to,
    actor,
    reason,
  });
  if (!row) throw new Error('alias vanished under its row lock');
  await notifyAlias(db, row);
  return toAlias(row);
}
