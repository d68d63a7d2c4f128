import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { AlreadyExistsError, NotFoundError } from '../errors.js';
import { streams } from '../schema/index.js';
import type { Stream } from '../types-data.js';
import { checkId, checkName } from '../validation.js';
import { guard, type StoreContext } from './context.js';
import { getModel } from './tenants.js';

function toStream(row: typeof streams.$inferSelect): Stream {
  return {
    id: row.id,
    modelId: row.modelId,
    name: row.name,
    nextOffset: row.nextOffset,
    createdAt: row.createdAt,
  };
}

/** Creates a stream feeding a model; the name is unique per model. */
export async function createStream(
  ctx: StoreContext,
  input: { modelId: string; name: string },
): Promise<Stream> {
  const modelId = checkId(ctx.name, 'modelId', input?.modelId);
  const name = checkName(ctx.name, 'name', input.name);
  return guard(ctx, 'createStream', async () => {
    await getModel(ctx, modelId);
    const [row] = await ctx.driver.db
      .insert(streams)
      .values({ id: randomUUID(), modelId, name })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new AlreadyExistsError(ctx.name, 'stream', `${modelId}/${name}`);
    return toStream(row);
  });
}

/** A stream by id (its `nextOffset` is the number of records acknowledged so far). */
export async function getStream(ctx: StoreContext, id: string): Promise<Stream> {
  checkId(ctx.name, 'streamId', id);
  return guard(ctx, 'getStream', async () => {
    const [row] = await ctx.driver.db.select().from(streams).where(eq(streams.id, id));
    if (!row) throw new NotFoundError(ctx.name, 'stream', id);
    return toStream(row);
  });
}

/** A model's stream by name. */
export async function findStream(
  ctx: StoreContext,
  modelId: string,
  name: string,
): Promise<Stream | undefined> {
  checkId(ctx.name, 'modelId', modelId);
  checkName(ctx.name, 'name', name);
  return guard(ctx, 'findStream', async () => {
    const [row] = await ctx.driver.db
      .select()
      .from(streams)
      .where(and(eq(streams.modelId, modelId), eq(streams.name, name)));
    return row ? toStream(row) : undefined;
  });
}

/** All streams of a model, by name. */
export async function listStreams(ctx: StoreContext, modelId: string): Promise<Stream[]> {
  checkId(ctx.name, 'modelId', modelId);
  return guard(ctx, 'listStreams', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(streams)
      .where(eq(streams.modelId, modelId))
      .orderBy(asc(streams.name));
    return rows.map(toStream);
  });
}
