import type { TensorBlock } from '@peer/core/serialization';
import { inArray } from 'drizzle-orm';
import { type HashedBlock, hashBlock } from '../codec/tensor-block.js';
import type { StoreTx } from '../drivers/driver.js';
import { StoreValidationError } from '../errors.js';
import { blocks } from '../schema/index.js';
import type { BlockSource, ManifestEntry } from '../types.js';
import type { StoreContext } from './context.js';

/** At most this many blocks per existence check / COPY, whatever their size (bind-parameter limits). */
const MAX_BLOCKS_PER_CHUNK = 2_000;

/** Outcome of writing a block source. */
export interface WrittenBlocks {
  /** One entry per input block, in input order. */
  readonly entries: ManifestEntry[];
  readonly writtenBlocks: number;
  readonly writtenBytes: number;
  readonly reusedBlocks: number;
}

/**
 * Consumes a block source inside a transaction: validates and hashes each block, then in chunks of
 * `ctx.chunkBytes` checks which hashes already exist and bulk-inserts only the missing ones. Only one
 * chunk is held at a time, so a 2 GiB layer streams through in bounded memory. The caller must not
 * mutate a block's bytes after yielding it until this resolves (they are referenced, not copied).
 */
export async function writeBlocks(
  ctx: StoreContext,
  tx: StoreTx,
  source: BlockSource,
  field = 'blocks',
): Promise<WrittenBlocks> {
  if (!source || (typeof source !== 'object' && typeof source !== 'function')) {
    throw new StoreValidationError(ctx.name, field, 'an iterable of TensorBlock', source);
  }
  const entries: ManifestEntry[] = [];
  const names = new Set<string>();
  const queued = new Set<string>();
  let pending: HashedBlock[] = [];
  let pendingBytes = 0;
  let writtenBlocks = 0;
  let writtenBytes = 0;
  let reusedBlocks = 0;

  const write = async (batch: HashedBlock[]) => {
    const existing = await tx.db
      .select({ hash: blocks.hash })
      .from(blocks)
      .where(
        inArray(
          blocks.hash,
          batch.map((b) => b.hash),
        ),
      );
    const present = new Set(existing.map((r) => r.hash));
    const missing = batch.filter((b) => !present.has(b.hash));
    reusedBlocks += batch.length - missing.length;
    // A hash inserted concurrently by another commit is skipped by the driver: then it counts as reused.
    const inserted = await tx.insertBlocks(missing.map((b) => ({ hash: b.hash, bytes: b.bytes })));
    writtenBlocks += inserted.rows;
    writtenBytes += inserted.bytes;
    reusedBlocks += missing.length - inserted.rows;
  };
  // Double buffering: while one chunk is being COPYed, the next is produced and hashed. Its promise is
  // settled eagerly so a failure during that overlap is never an unhandled rejection.
  let inflight: Promise<{ error?: unknown }> = Promise.resolve({});
  const settle = async () => {
    const { error } = await inflight;
    if (error !== undefined) throw error;
  };
  const flush = async () => {
    await settle();
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingBytes = 0;
    inflight = write(batch).then(
      () => ({}),
      (error: unknown) => ({ error: error ?? new Error('block write failed') }),
    );
  };

  try {
    for await (const block of source as AsyncIterable<TensorBlock>) {
      const hashed = hashBlock(ctx.name, block, field);
      if (names.has(hashed.name)) {
        throw new StoreValidationError(ctx.name, `${field}.name`, 'unique within one commit', hashed.name);
      }
      names.add(hashed.name);
      entries.push({
        name: hashed.name,
        hash: hashed.hash,
        dtype: hashed.dtype,
        shape: hashed.shape,
        byteLength: hashed.bytes.byteLength,
      });
      if (queued.has(hashed.hash)) {
        reusedBlocks++;
        continue;
      }
      queued.add(hashed.hash);
      pending.push(hashed);
      pendingBytes += hashed.bytes.byteLength;
      if (pendingBytes >= ctx.chunkBytes || pending.length >= MAX_BLOCKS_PER_CHUNK) await flush();
    }
    await flush();
    await settle();
  } finally {
    // Whatever failed (a bad block mid-stream, say), let an in-flight COPY finish before the rollback.
    await inflight;
  }
  return { entries, writtenBlocks, writtenBytes, reusedBlocks };
}
