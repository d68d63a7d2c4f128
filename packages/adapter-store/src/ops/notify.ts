import { sql } from 'drizzle-orm';
import type { Db } from '../drivers/driver.js';
import { StoreValidationError } from '../errors.js';
import type { AliasNotification } from '../types.js';
import { checkChannel } from '../validation.js';
import { guard, type StoreContext } from './context.js';

/**
 * The channel on which every alias creation, move and rollback is announced, with an
 * `AliasNotification` as JSON payload. It is sent inside the alias transaction, so PostgreSQL delivers
 * it only once the move is committed (and never for one that rolled back).
 */
export const ALIAS_CHANNEL = 'peer_alias';

/** Largest notification payload in UTF-8 bytes (PostgreSQL refuses 8000 and more). */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7999;

/**
 * Sends a notification to every listener of the channel, on any store of the same database. Delivery is
 * at most once and only to current listeners: treat it as a hint to re-read state, not as a queue.
 */
export async function notify(ctx: StoreContext, channel: string, payload: string): Promise<void> {
  checkChannel(ctx.name, 'channel', channel);
  checkPayload(ctx, payload);
  return guard(ctx, 'notify', () => sendNotification(ctx.driver.db, channel, payload));
}

/** `pg_notify` on a connection or transaction (inside one, it is delivered at commit). */
export async function sendNotification(db: Db, channel: string, payload: string): Promise<void> {
  await db.execute(sql`select pg_notify(${channel}, ${payload})`);
}

/** Announces an alias change on `ALIAS_CHANNEL`, in the caller's transaction. */
export function notifyAlias(db: Db, alias: AliasNotification): Promise<void> {
  const payload: AliasNotification = { modelId: alias.modelId, name: alias.name, versionId: alias.versionId };
  return sendNotification(db, ALIAS_CHANNEL, JSON.stringify(payload));
}

/**
 * Subscribes to a channel; resolves once subscribed, with the function that unsubscribes (idempotent;
 * nothing is delivered once it has been called). `onPayload` runs outside the driver's connection
 * handling: if it throws, the error is rethrown asynchronously (an uncaught exception) instead of
 * breaking the connection that delivered it.
 */
export async function listen(
  ctx: StoreContext,
  channel: string,
  onPayload: (payload: string) => void,
): Promise<() => Promise<void>> {
  checkChannel(ctx.name, 'channel', channel);
  if (typeof onPayload !== 'function') {
    throw new StoreValidationError(ctx.name, 'onPayload', 'a function', onPayload);
  }
  let active = true;
  const deliver = (payload: string) => {
    if (!active) return;
    try {
      onPayload(payload);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  };
  const stop = await guard(ctx, 'listen', () => ctx.driver.listen(channel, deliver));
  let stopped: Promise<void> | undefined;
  return () => {
    active = false;
    stopped ??= guard(ctx, 'unlisten', stop);
    return stopped;
  };
}

function checkPayload(ctx: StoreContext, payload: unknown): void {
  if (typeof payload !== 'string') throw new StoreValidationError(ctx.name, 'payload', 'a string', payload);
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_NOTIFY_PAYLOAD_BYTES) {
    throw new StoreValidationError(
      ctx.name,
      'payload',
      `at most ${MAX_NOTIFY_PAYLOAD_BYTES} UTF-8 bytes`,
      bytes,
    );
  }
  if (payload.includes('\u0000')) {
    throw new StoreValidationError(ctx.name, 'payload', 'free of NUL characters', payload);
  }
}
