import type { AdapterVersion, Version } from '@peer/adapter-store';
import { LoraAdapter } from '@peer/core';

/**
 * Channel on which adapter changes of a base model are announced, payload `{"modelId": ...}`: uploads and
 * removals here, and anything else that commits adapter versions (a training worker) may send it too, so
 * every replica reloads that model's adapters at once instead of after `ADAPTER_TTL_MS`.
 */
export const ADAPTER_CHANNEL = 'peer_adapters';

/**
 * The store keeps adapters as append-only lines with no delete, so removing an adapter commits a final
 * "tombstone" version (the same A/B blocks, deduplicated, so it costs no bytes) whose metrics carry
 * `removed: true`. The line's earlier versions stay readable: history is kept.
 */
export const REMOVED_METRIC = 'removed';

/** Whether a version of an adapter line is its removal tombstone. */
export function isRemoved(version: Version): boolean {
  return version.metrics[REMOVED_METRIC] === true;
}

/** Whether a retrieval key is all zeros: such an adapter is never chosen by `auto` (only by name). */
export function isZeroKey(key: Float32Array): boolean {
  return key.every((v) => v === 0);
}

/**
 * A core `LoraAdapter` from a stored adapter version: one target module, version label = the version's
 * sequence number (1, 2, ...) as a string. A zero key becomes no key, so `auto` never retrieves it.
 */
export function loraFromStored(stored: AdapterVersion): LoraAdapter {
  return LoraAdapter.fromWeights(
    {
      name: stored.name,
      version: String(stored.version.seq),
      rank: stored.rank,
      alpha: stored.alpha,
      key: isZeroKey(stored.retrievalKey) ? null : Float32Array.from(stored.retrievalKey),
    },
    { [stored.targetLayer]: { inDim: stored.dIn, outDim: stored.dOut, a: stored.a, b: stored.b } },
  );
}
