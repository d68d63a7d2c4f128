import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { AlreadyExistsError, NotFoundError } from '../errors.js';
import { models, tenants } from '../schema/index.js';
import type { JsonValue, Model, Tenant } from '../types.js';
import { checkId, checkJson, checkName } from '../validation.js';
import { guard, type StoreContext } from './context.js';
import { toModel, toTenant } from './rows.js';

/** Creates a tenant; the name is unique. */
export async function createTenant(ctx: StoreContext, input: { name: string }): Promise<Tenant> {
  const name = checkName(ctx.name, 'name', input?.name);
  return guard(ctx, 'createTenant', async () => {
    const rows = await ctx.driver.db
      .insert(tenants)
      .values({ id: randomUUID(), name })
      .onConflictDoNothing()
      .returning();
    const row = rows[0];
    if (!row) throw new AlreadyExistsError(ctx.name, 'tenant', name);
    return toTenant(row);
  });
}

/** Looks a tenant up by id. */
export async function getTenant(ctx: StoreContext, id: string): Promise<Tenant> {
  checkId(ctx.name, 'tenantId', id);
  return guard(ctx, 'getTenant', async () => {
    const [row] = await ctx.driver.db.select().from(tenants).where(eq(tenants.id, id));
    if (!row) throw new NotFoundError(ctx.name, 'tenant', id);
    return toTenant(row);
  });
}

/** Finds a tenant by its (unique) name. */
export async function findTenantByName(ctx: StoreContext, name: string): Promise<Tenant | undefined> {
  checkName(ctx.name, 'name', name);
  return guard(ctx, 'findTenantByName', async () => {
    const [row] = await ctx.driver.db.select().from(tenants).where(eq(tenants.name, name));
    return row ? toTenant(row) : undefined;
  });
}

/** Creates a model of a tenant; the name is unique per tenant. */
export async function createModel(
  ctx: StoreContext,
  input: { tenantId: string; name: string; config?: JsonValue },
): Promise<Model> {
  const tenantId = checkId(ctx.name, 'tenantId', input?.tenantId);
  const name = checkName(ctx.name, 'name', input.name);
  checkJson(ctx.name, 'config', input.config ?? {});
  return guard(ctx, 'createModel', async () => {
    await getTenant(ctx, tenantId);
    const rows = await ctx.driver.db
      .insert(models)
      .values({ id: randomUUID(), tenantId, kind: 'model', name, config: input.config ?? {} })
      .onConflictDoNothing()
      .returning();
    const row = rows[0];
    if (!row) throw new AlreadyExistsError(ctx.name, 'model', name);
    return toModel(row);
  });
}

/** Looks a model (or adapter) up by id. */
export async function getModel(ctx: StoreContext, id: string): Promise<Model> {
  checkId(ctx.name, 'modelId', id);
  return guard(ctx, 'getModel', async () => {
    const [row] = await ctx.driver.db.select().from(models).where(eq(models.id, id));
    if (!row) throw new NotFoundError(ctx.name, 'model', id);
    return toModel(row);
  });
}

/** Finds a tenant's model by name. */
export async function findModel(
  ctx: StoreContext,
  tenantId: string,
  name: string,
): Promise<Model | undefined> {
  checkId(ctx.name, 'tenantId', tenantId);
  checkName(ctx.name, 'name', name);
  return guard(ctx, 'findModel', async () => {
    const [row] = await ctx.driver.db
      .select()
      .from(models)
      .where(and(eq(models.tenantId, tenantId), eq(models.name, name), eq(models.kind, 'model')));
    return row ? toModel(row) : undefined;
  });
}

/** Lists a tenant's models (not adapters), oldest first. */
export async function listModels(ctx: StoreContext, tenantId: string): Promise<Model[]> {
  checkId(ctx.name, 'tenantId', tenantId);
  return guard(ctx, 'listModels', async () => {
    const rows = await ctx.driver.db
      .select()
      .from(models)
      .where(and(eq(models.tenantId, tenantId), eq(models.kind, 'model')))
      .orderBy(asc(models.createdAt), asc(models.id));
    return rows.map(toModel);
  });
}
