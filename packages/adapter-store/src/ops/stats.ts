import { and, eq, sql } from 'drizzle-orm';
import { blocks, models, versions } from '../schema/index.js';
import type { JsonValue } from '../types.js';
import { guard, type StoreContext } from './context.js';

/** How much the store holds (for `/metrics` and capacity planning). */
export interface StorageStats {
  /** `pg_database_size` of the current database: tables, indexes and TOAST. */
  readonly databaseBytes: number;
  /** Distinct content-addressed blocks and their payload bytes (shared blocks counted once). */
  readonly blockCount: number;
  readonly blockBytes: number;
}

/** The head version of a model line, with its config (the serialized model's manifest). */
export interface ModelHead {
  readonly modelId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly versionId: string;
  readonly seq: number;
  readonly config: JsonValue;
}

/** Database and block storage totals. */
export async function storageStats(ctx: StoreContext): Promise<StorageStats> {
  return guard(ctx, 'storageStats', async () => {
    const result = await ctx.driver.db.execute(sql`select pg_database_size(current_database()) as bytes`);
    const size = rowsOf<{ bytes: string | number }>(result)[0];
    const [totals] = await ctx.driver.db
      .select({
        count: sql<string | number>`count(*)`,
        bytes: sql<string | number | null>`sum(${blocks.byteLength})`,
      })
      .from(blocks);
    return {
      databaseBytes: Number(size?.bytes ?? 0),
      blockCount: Number(totals?.count ?? 0),
      blockBytes: Number(totals?.bytes ?? 0),
    };
  });
}

/** The head version of every model line (not adapters) across tenants: one query, for scrape-time gauges. */
export async function modelHeads(ctx: StoreContext): Promise<ModelHead[]> {
  return guard(ctx, 'modelHeads', async () => {
    const rows = await ctx.driver.db
      .select({
        modelId: models.id,
        tenantId: models.tenantId,
        name: models.name,
        versionId: versions.id,
        seq: versions.seq,
        config: versions.config,
      })
      .from(models)
      .innerJoin(versions, eq(versions.id, models.headVersionId))
      .where(and(eq(models.kind, 'model')));
    return rows.map((r) => ({ ...r, config: r.config as JsonValue }));
  });
}

/** Rows of `db.execute`, which is an array on postgres.js and `{ rows }` on PGlite. */
function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : ((result as { rows?: T[] }).rows ?? [])) as T[];
}
