import { asc, eq, sql } from 'drizzle-orm';
import type { Db } from '../drivers/driver.js';
import { AlreadyExistsError, NotFoundError } from '../errors.js';
import { planReservoir } from '../replay/reservoir.js';
import { replayItems, replayReservoirs, streams } from '../schema/index.js';
import type { JsonValue } from '../types.js';
import type { ReplayItem, ReplayState } from '../types-data.js';
import { checkId, checkInt, checkJson } from '../validation.js';
import { guard, type StoreContext } from './context.js';

/**
 * Creates a stream's replay reservoir. Capacity and seed are fixed for its life (changing either
 * mid-stream would break Algorithm R's uniformity); configuring again with the same values is a no-op.
 */
export async function configureReplay(
  ctx: StoreContext,
  streamId: string,
  options: { capacity: number; seed: number },
): Promise<ReplayState> {
  checkId(ctx.name, 'streamId', streamId);
  const capacity = checkInt(ctx.name, 'capacity', options?.capacity, 1, 10_000_000);
  const seed = checkInt(ctx.name, 'seed', options.seed, 0, 0xffffffff);
  return guard(ctx, 'configureReplay', async () => {
    const [stream] = await ctx.driver.db
      .select({ id: streams.id })
      .from(streams)
      .where(eq(streams.id, streamId));
    if (!stream) throw new NotFoundError(ctx.name, 'stream', streamId);
    await ctx.driver.db
      .insert(replayReservoirs)
      .values({ streamId, capacity, seed, rngState: seed })
      .onConflictDoNothing();
    const [row] = await ctx.driver.db
      .select()
      .from(replayReservoirs)
      .where(eq(replayReservoirs.streamId, streamId));
    if (!row || row.capacity !== capacity || row.seed !== seed) {
      throw new AlreadyExistsError(
        ctx.name,
        'replay reservoir',
        `${streamId} (capacity ${row?.capacity}, seed ${row?.seed})`,
      );
    }
    return { streamId, capacity, seen: row.seen, size: Math.min(row.seen, capacity) };
  });
}

/** Offers items to a stream's reservoir (durably, in one transaction) and returns the new state. */
export async function offerReplay(
  ctx: StoreContext,
  streamId: string,
  items: readonly JsonValue[],
): Promise<ReplayState> {
  checkId(ctx.name, 'streamId', streamId);
  const texts = (Array.isArray(items) ? items : [items]).map((item, i) =>
    checkJson(ctx.name, `items[${i}]`, item, 1024 * 1024),
  );
  return guard(ctx, 'offerReplay', () =>
    ctx.driver.transaction((tx) => offerTexts(ctx, tx.db, streamId, texts)),
  );
}

/**
 * Algorithm R over already-serialised items, inside the caller's transaction (so `recordBatch` can
 * sample in the same commit as the ledger). The reservoir row is locked, so concurrent offers queue.
 */
export async function offerTexts(
  ctx: StoreContext,
  db: Db,
  streamId: string,
  texts: readonly string[],
): Promise<ReplayState> {
  const [res] = await db
    .select()
    .from(replayReservoirs)
    .where(eq(replayReservoirs.streamId, streamId))
    .for('update');
  if (!res) throw new NotFoundError(ctx.name, 'replay reservoir', streamId);
  const rng = ctx.rng(res.rngState);
  const plan = planReservoir(res.capacity, res.seen, texts.length, rng);
  if (plan.size > 0) {
    const payload = [...plan]
      .map(([slot, i]) => `{"slot":${slot},"src":${res.seen + i},"item":${texts[i]}}`)
      .join(',');
    await db.execute(sql`
      insert into ${replayItems} ("stream_id", "slot", "source_index", "item")
      select ${streamId}::uuid, (e->>'slot')::int, (e->>'src')::bigint, e->'item'
      from json_array_elements(${`[${payload}]`}::json) as e
      on conflict ("stream_id", "slot") do update set "source_index" = excluded."source_index", "item" = excluded."item"`);
  }
  const seen = res.seen + texts.length;
  await db
    .update(replayReservoirs)
    .set({ seen, rngState: rng.state, updatedAt: new Date() })
    .where(eq(replayReservoirs.streamId, streamId));
  return { streamId, capacity: res.capacity, seen, size: Math.min(seen, res.capacity) };
}

/** The reservoir's counters, or `NotFoundError`. */
export async function replayState(ctx: StoreContext, streamId: string): Promise<ReplayState> {
  checkId(ctx.name, 'streamId', streamId);
  return guard(ctx, 'replayState', async () => {
    const [row] = await ctx.driver.db
      .select()
      .from(replayReservoirs)
      .where(eq(replayReservoirs.streamId, streamId));
    if (!row) throw new NotFoundError(ctx.name, 'replay reservoir', streamId);
    return { streamId, capacity: row.capacity, seen: row.seen, size: Math.min(row.seen, row.capacity) };
  });
}

/** The sampled items, by slot. */
export async function loadReplay(ctx: StoreContext, streamId: string): Promise<ReplayItem[]> {
  checkId(ctx.name, 'streamId', streamId);
  return guard(ctx, 'loadReplay', async () => {
    await replayState(ctx, streamId);
    const rows = await ctx.driver.db
      .select({
        slot: replayItems.slot,
        sourceIndex: replayItems.sourceIndex,
        text: sql<string>`${replayItems.item}::text`,
      })
      .from(replayItems)
      .where(eq(replayItems.streamId, streamId))
      .orderBy(asc(replayItems.slot));
    return rows.map((r) => ({
      slot: r.slot,
      sourceIndex: r.sourceIndex,
      item: JSON.parse(r.text) as JsonValue,
    }));
  });
}
