import type { TensorBlock } from '@peer/core/serialization';
import { aligned, copyBytes, sha256Hex } from '../codec/tensor-block.js';
import { BlockIntegrityError } from '../errors.js';
import type { ManifestEntry } from '../types.js';
import type { StoreContext } from './context.js';

/** Splits entries into consecutive groups of about `chunkBytes` (always at least one entry). */
function chunksOf(entries: readonly ManifestEntry[], chunkBytes: number): ManifestEntry[][] {
  const chunks: ManifestEntry[][] = [];
  let current: ManifestEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (current.length > 0 && bytes + e.byteLength > chunkBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += e.byteLength;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

async function fetchChunk(
  ctx: StoreContext,
  chunk: readonly ManifestEntry[],
): Promise<Map<string, Uint8Array>> {
  const hashes = [...new Set(chunk.map((e) => e.hash))];
  const found = new Map<string, Uint8Array>();
  for await (const row of ctx.driver.readBlocks(hashes)) found.set(row.hash, row.bytes);
  return found;
}

/**
 * Streams the blocks of a manifest in manifest order, verifying each one (present, declared length,
 * sha256) before handing it out: a corrupt block is a `BlockIntegrityError` naming it, never wrong
 * weights. Reads go in chunks of `ctx.chunkBytes` and the next chunk is fetched while the current one
 * is consumed, so memory stays at about two chunks.
 */
export async function* streamBlocks(
  ctx: StoreContext,
  entries: readonly ManifestEntry[],
): AsyncGenerator<TensorBlock> {
  const chunks = chunksOf(entries, ctx.chunkBytes);
  // Settled eagerly so that a prefetch failing while the consumer is busy is not an unhandled rejection.
  const prefetch = (chunk: ManifestEntry[] | undefined): Promise<Settled> | undefined =>
    chunk
      ? fetchChunk(ctx, chunk).then(
          (found) => ({ found }),
          (error: unknown) => ({ error }),
        )
      : undefined;
  let next = prefetch(chunks[0]);
  try {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as ManifestEntry[];
      const settled = (await next) as Settled;
      next = prefetch(chunks[i + 1]);
      if ('error' in settled) throw settled.error;
      const verified = new Set<string>();
      for (const entry of chunk) {
        const bytes = settled.found.get(entry.hash);
        if (!bytes) throw new BlockIntegrityError(ctx.name, entry.name, entry.hash, 'missing');
        if (bytes.byteLength !== entry.byteLength) {
          const detail = `${bytes.byteLength} bytes stored, ${entry.byteLength} expected`;
          throw new BlockIntegrityError(ctx.name, entry.name, entry.hash, 'length_mismatch', detail);
        }
        if (verified.has(entry.hash)) {
          // Same content under two names: hand out separate buffers so mutating one cannot alter the other.
          yield { name: entry.name, dtype: entry.dtype, shape: entry.shape, bytes: copyBytes(bytes) };
          continue;
        }
        const actual = sha256Hex(bytes);
        if (actual !== entry.hash) {
          const detail = `stored bytes hash to ${actual}`;
          throw new BlockIntegrityError(ctx.name, entry.name, entry.hash, 'hash_mismatch', detail);
        }
        verified.add(entry.hash);
        yield { name: entry.name, dtype: entry.dtype, shape: entry.shape, bytes: aligned(bytes) };
      }
    }
  } finally {
    // An abandoned prefetch must still finish: it owns a connection (postgres.js) until it does.
    await next;
  }
}

type Settled = { found: Map<string, Uint8Array> } | { error: unknown };

/** Collects a block stream into an array (for small versions; big ones should be consumed as a stream). */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}
