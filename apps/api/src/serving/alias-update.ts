import {
  type AdapterStore,
  type Alias,
  AlreadyExistsError,
  type Model,
  type MoveAuthor,
  NotFoundError,
  type Version,
} from '@peer/adapter-store';
import { ApiError } from '../http/api-error.js';

/** A version of `model` named by id or sequence number; 404 when it is not one of the model's. */
export async function versionOf(store: AdapterStore, model: Model, ref: string): Promise<Version> {
  if (/^\d+$/.test(ref)) {
    const seq = Number(ref);
    const version = (await store.listVersions(model.id)).find((v) => v.seq === seq);
    if (!version) throw ApiError.notFound('version', ref);
    return version;
  }
  const version = await store.getVersion(ref.toLowerCase()).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  if (!version || version.modelId !== model.id) throw ApiError.notFound('version', ref);
  return version;
}

/**
 * Points alias `name` at `target`: a logged move of an existing alias (only from `expectedVersion` when
 * given, else 409), or its creation. The caller tells serving (`noteAlias`) so this replica switches at once.
 */
export async function pointAlias(
  store: AdapterStore,
  input: { model: Model; name: string; target: Version; expectedVersion?: string | undefined } & MoveAuthor,
): Promise<{ alias: Alias; created: boolean }> {
  const { model, name, target, expectedVersion, ...author } = input;
  const move = { modelId: model.id, name, versionId: target.id, ...author };
  const exists = await store.getAlias(model.id, name).then(
    () => true,
    (error: unknown) => {
      if (error instanceof NotFoundError) return false;
      throw error;
    },
  );
  if (exists) {
    const alias = await store.moveAlias({
      ...move,
      ...(expectedVersion ? { expectedVersionId: expectedVersion } : {}),
    });
    return { alias, created: false };
  }
  if (expectedVersion) {
    throw new ApiError(409, 'conflict', `alias '${name}' does not exist, so it is not at ${expectedVersion}`);
  }
  try {
    return { alias: await store.createAlias(move), created: true };
  } catch (error) {
    // Created concurrently by another request: this one is a move after it.
    if (!(error instanceof AlreadyExistsError)) throw error;
    return { alias: await store.moveAlias(move), created: false };
  }
}
