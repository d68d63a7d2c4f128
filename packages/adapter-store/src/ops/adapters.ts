import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { aligned, copyBytes } from '../codec/tensor-block.js';
import { AlreadyExistsError, NotFoundError, StoreValidationError } from '../errors.js';
import { adapterVersions, aliases, models } from '../schema/index.js';
import type { CommitResult, JsonValue, Model } from '../types.js';
import type { AdapterCommitInput, AdapterKey, AdapterVersion } from '../types-data.js';
import { checkBlockName, checkId, checkInt, checkJson, checkName } from '../validation.js';
import { collect } from './block-reader.js';
import { commitLine } from './commit.js';
import { guard, type StoreContext } from './context.js';
import { toModel } from './rows.js';
import { getModel } from './tenants.js';
import { getVersion, loadBlocks } from './versions.js';

/** Block names of the LoRA matrices inside an adapter version. */
export const LORA_A = 'lora.A';
export const LORA_B = 'lora.B';

/** Creates an adapter of a base model, targeting one of its linear layers. */
export async function createAdapter(
  ctx: StoreContext,
  input: { modelId: string; name: string; targetLayer: string; config?: JsonValue },
): Promise<Model> {
  const baseId = checkId(ctx.name, 'modelId', input?.modelId);
  const name = checkName(ctx.name, 'name', input.name);
  const targetLayer = checkBlockName(ctx.name, 'targetLayer', input.targetLayer);
  const config = { targetLayer, extra: input.config ?? null };
  checkJson(ctx.name, 'config', config);
  return guard(ctx, 'createAdapter', async () => {
    const base = await getModel(ctx, baseId);
    if (base.kind !== 'model')
      throw new StoreValidationError(ctx.name, 'modelId', 'a base model, not an adapter', baseId);
    const [row] = await ctx.driver.db
      .insert(models)
      .values({
        id: randomUUID(),
        tenantId: base.tenantId,
        kind: 'adapter',
        baseModelId: baseId,
        name,
        config,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new AlreadyExistsError(ctx.name, 'adapter', `${baseId}/${name}`);
    return toModel(row);
  });
}

/** The adapter line `name` of a base model, with or without versions (undefined when absent). */
export async function findAdapter(
  ctx: StoreContext,
  modelId: string,
  name: string,
): Promise<Model | undefined> {
  const baseId = checkId(ctx.name, 'modelId', modelId);
  const checked = checkName(ctx.name, 'name', name);
  return guard(ctx, 'findAdapter', async () => {
    const [row] = await ctx.driver.db
      .select()
      .from(models)
      .where(and(eq(models.baseModelId, baseId), eq(models.kind, 'adapter'), eq(models.name, checked)));
    return row ? toModel(row) : undefined;
  });
}

/** Commits a LoRA adapter version (A and B as content-addressed blocks plus rank/alpha/key metadata). */
export async function commitAdapterVersion(
  ctx: StoreContext,
  input: AdapterCommitInput,
): Promise<CommitResult> {
  const rank = checkInt(ctx.name, 'rank', input?.rank, 1, 65_536);
  const dIn = checkInt(ctx.name, 'dIn', input.dIn, 1, 1 << 20);
  const dOut = checkInt(ctx.name, 'dOut', input.dOut, 1, 1 << 20);
  if (typeof input.alpha !== 'number' || !Number.isFinite(input.alpha) || input.alpha <= 0) {
    throw new StoreValidationError(ctx.name, 'alpha', 'a finite number > 0', input.alpha);
  }
  checkFloats(ctx, 'a', input.a, rank * dIn);
  checkFloats(ctx, 'b', input.b, dOut * rank);
  checkFloats(ctx, 'retrievalKey', input.retrievalKey, input.retrievalKey?.length, 1, 65_536);
  const bytesOf = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  const blocks = [
    { name: LORA_A, dtype: 'float32' as const, shape: [rank, dIn], bytes: bytesOf(input.a) },
    { name: LORA_B, dtype: 'float32' as const, shape: [dOut, rank], bytes: bytesOf(input.b) },
  ];
  const adapterId = checkId(ctx.name, 'adapterId', input.adapterId);
  return commitLine(
    ctx,
    { ...input, modelId: adapterId, blocks },
    {
      kind: 'adapter',
      async afterInsert(tx, version) {
        const [adapter] = await tx.db
          .select({ config: models.config })
          .from(models)
          .where(eq(models.id, adapterId));
        const targetLayer = (adapter?.config as { targetLayer?: string } | undefined)?.targetLayer ?? '';
        await tx.db.insert(adapterVersions).values({
          versionId: version.id,
          targetLayer,
          rank,
          alpha: input.alpha,
          dIn,
          dOut,
          retrievalKey: copyBytes(bytesOf(input.retrievalKey)),
          keyDim: input.retrievalKey.length,
        });
      },
    },
  );
}

/** Loads an adapter version with its A/B matrices (hash-verified). */
export async function loadAdapterVersion(ctx: StoreContext, versionId: string): Promise<AdapterVersion> {
  return guard(ctx, 'loadAdapterVersion', async () => {
    const version = await getVersion(ctx, versionId);
    const [meta] = await ctx.driver.db
      .select()
      .from(adapterVersions)
      .where(eq(adapterVersions.versionId, versionId));
    if (!meta) throw new NotFoundError(ctx.name, 'adapter version', versionId);
    const adapter = await getModel(ctx, version.modelId);
    const [a, b] = await collect(loadBlocks(ctx, versionId, { names: [LORA_A, LORA_B] }));
    if (!a || !b) throw new NotFoundError(ctx.name, 'block', `${versionId}/${LORA_A}`);
    return {
      version,
      adapterId: adapter.id,
      name: adapter.name,
      targetLayer: meta.targetLayer,
      rank: meta.rank,
      alpha: meta.alpha,
      dIn: meta.dIn,
      dOut: meta.dOut,
      a: floats(a.bytes),
      b: floats(b.bytes),
      retrievalKey: floats(meta.retrievalKey),
    };
  });
}

/**
 * Retrieval keys of every adapter of a base model, at each adapter's head (or at the version its alias
 * `alias` points to; adapters without that alias are left out) — what "adapters: auto" ranks by key.
 */
export async function listAdapterKeys(
  ctx: StoreContext,
  baseModelId: string,
  options: { alias?: string } = {},
): Promise<AdapterKey[]> {
  checkId(ctx.name, 'modelId', baseModelId);
  const alias = options.alias === undefined ? undefined : checkName(ctx.name, 'alias', options.alias);
  return guard(ctx, 'listAdapterKeys', async () => {
    const adapters = await ctx.driver.db
      .select()
      .from(models)
      .where(and(eq(models.baseModelId, baseModelId), eq(models.kind, 'adapter')))
      .orderBy(asc(models.name));
    const keys: AdapterKey[] = [];
    for (const adapter of adapters) {
      let versionId = adapter.headVersionId;
      if (alias !== undefined) {
        const [a] = await ctx.driver.db
          .select()
          .from(aliases)
          .where(and(eq(aliases.modelId, adapter.id), eq(aliases.name, alias)));
        versionId = a?.versionId ?? null;
      }
      if (!versionId) continue;
      const [meta] = await ctx.driver.db
        .select()
        .from(adapterVersions)
        .where(eq(adapterVersions.versionId, versionId));
      if (!meta) continue;
      keys.push({
        adapterId: adapter.id,
        name: adapter.name,
        targetLayer: meta.targetLayer,
        versionId,
        rank: meta.rank,
        alpha: meta.alpha,
        retrievalKey: floats(meta.retrievalKey),
      });
    }
    return keys;
  });
}

function checkFloats(
  ctx: StoreContext,
  field: string,
  value: unknown,
  length: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!(value instanceof Float32Array))
    throw new StoreValidationError(ctx.name, field, 'a Float32Array', value);
  if (value.length !== length || length < min || length > max) {
    throw new StoreValidationError(
      ctx.name,
      `${field}.length`,
      min > 0 ? `in [${min}, ${max}]` : `${length}`,
      value.length,
    );
  }
}

/** Float32 view of little-endian bytes (copied when unaligned). */
function floats(bytes: Uint8Array): Float32Array {
  const own = aligned(bytes);
  return new Float32Array(own.buffer, own.byteOffset, own.byteLength / 4);
}
