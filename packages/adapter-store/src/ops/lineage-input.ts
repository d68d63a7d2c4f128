import { and, eq } from 'drizzle-orm';
import type { Db } from '../drivers/driver.js';
import { type DriverName, NotFoundError, StoreValidationError } from '../errors.js';
import { streams } from '../schema/index.js';
import type { CommitInput, JsonObject, Lineage } from '../types.js';
import { checkId, checkInt, checkJson, checkText } from '../validation.js';

/** Commit metadata after validation. */
export interface CheckedMeta {
  readonly lineage: Lineage;
  readonly metrics: JsonObject;
  readonly message: string;
  readonly author: string;
}

/** Validates lineage, metrics, message and author of a commit (no I/O). */
export function checkCommitMeta(
  driver: DriverName,
  input: Pick<CommitInput, 'lineage' | 'metrics' | 'message' | 'author'>,
): CheckedMeta {
  const lin = input.lineage ?? {};
  const streamId = lin.streamId == null ? null : checkId(driver, 'lineage.streamId', lin.streamId);
  const ingestFrom = lin.ingestFrom == null ? null : checkInt(driver, 'lineage.ingestFrom', lin.ingestFrom);
  const ingestTo = lin.ingestTo == null ? null : checkInt(driver, 'lineage.ingestTo', lin.ingestTo);
  if (ingestFrom !== null && ingestTo !== null && ingestTo < ingestFrom) {
    throw new StoreValidationError(
      driver,
      'lineage.ingestTo',
      `>= lineage.ingestFrom (${ingestFrom})`,
      ingestTo,
    );
  }
  if ((ingestFrom !== null || ingestTo !== null) && streamId === null) {
    throw new StoreValidationError(driver, 'lineage.streamId', 'set when an ingest range is given', null);
  }
  const extra = lin.extra ?? {};
  checkJson(driver, 'lineage.extra', extra);
  const metrics = input.metrics ?? {};
  checkJson(driver, 'metrics', metrics);
  if (!isPlainObject(extra)) throw new StoreValidationError(driver, 'lineage.extra', 'a JSON object', extra);
  if (!isPlainObject(metrics)) throw new StoreValidationError(driver, 'metrics', 'a JSON object', metrics);
  return {
    lineage: { streamId, ingestFrom, ingestTo, extra },
    metrics,
    message: checkText(driver, 'message', input.message ?? ''),
    author: checkText(driver, 'author', input.author ?? 'unknown', 200),
  };
}

/** A lineage stream must exist and feed this model (or, for an adapter, its base model). */
export async function checkLineageStream(
  db: Db,
  driver: DriverName,
  streamId: string | null,
  modelIds: string[],
): Promise<void> {
  if (streamId === null) return;
  const [row] = await db
    .select({ modelId: streams.modelId })
    .from(streams)
    .where(and(eq(streams.id, streamId)));
  if (!row) throw new NotFoundError(driver, 'stream', streamId);
  if (!modelIds.includes(row.modelId)) {
    throw new StoreValidationError(driver, 'lineage.streamId', `a stream of model ${modelIds[0]}`, streamId);
  }
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
