import type { Model, Stream } from '@peer/adapter-store';
import { NotFoundError } from '@peer/adapter-store';
import type { Context } from 'hono';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';

/**
 * The caller's model with this id. Another tenant's model is reported exactly like a missing one (404),
 * so ids cannot be probed across tenants.
 */
export async function ownedModel(c: Context<AppEnv>, id: string): Promise<Model> {
  const { store } = c.get('services');
  const model = await store.getModel(id).catch((error: unknown) => {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  });
  if (model?.kind !== 'model' || model.tenantId !== c.get('principal').tenantId) {
    throw ApiError.notFound('model', id);
  }
  return model;
}

/** The stream of a model by name, or 404. */
export async function modelStream(c: Context<AppEnv>, model: Model, name: string): Promise<Stream> {
  const stream = await c.get('services').store.findStream(model.id, name);
  if (!stream) throw ApiError.notFound('stream', name);
  return stream;
}
