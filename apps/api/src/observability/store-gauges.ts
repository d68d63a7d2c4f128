import { type AdapterStore, CONTINUAL_STATE_SUFFIX, type JsonValue } from '@peer/adapter-store';
import type { Metrics } from './metrics.js';

/**
 * Experts in a serialized classifier's manifest: per PEER layer, the sub-key rows of all its segments
 * times its sub-key columns (the product-key grid), summed over layers.
 */
export function poolExperts(manifest: JsonValue): number {
  const peer = (
    manifest as { peer?: Record<string, { segments?: number[]; config?: { subKeyCols?: number } }> }
  )?.peer;
  let total = 0;
  for (const layer of Object.values(peer ?? {})) {
    const rows = (layer.segments ?? []).reduce((a, b) => a + b, 0);
    total += rows * (layer.config?.subKeyCols ?? 0);
  }
  return total;
}

/** Registers the gauges read from the store at scrape time: store bytes and pool size per model. */
export function registerStoreGauges(metrics: Metrics, store: AdapterStore): void {
  metrics.gauge(
    'peer_store_bytes',
    'Bytes held by the store (database total, distinct block payloads)',
    async () => {
      const s = await store.storageStats();
      return [
        [{ kind: 'database' }, s.databaseBytes],
        [{ kind: 'blocks' }, s.blockBytes],
      ];
    },
  );
  metrics.gauge('peer_pool_experts', 'Experts in the head version of each model', async () =>
    (await store.modelHeads())
      .filter((h) => !h.name.endsWith(CONTINUAL_STATE_SUFFIX))
      .map((h) => [{ model: h.modelId, name: h.name }, poolExperts(h.config)]),
  );
}
