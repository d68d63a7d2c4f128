import type * as tf from '@tensorflow/tfjs';
import { PeerShapeError } from '../errors/peer-error.js';
import type { PeerRetrieval } from '../layer/peer-layer.js';

/**
 * Share of an input's retrieved experts that changed between two retrievals of the same inputs: per token and
 * head, |ids_before \ ids_after| / k, averaged. 0 means every old input still reaches exactly its old experts;
 * DESIGN §2 names this routing drift as the real risk of growth (old inputs pulled to new experts).
 */
export function routingChange(before: PeerRetrieval, after: PeerRetrieval): number {
  const { tokens, heads, k } = before;
  if (after.tokens !== tokens || after.heads !== heads || after.k !== k) {
    throw new PeerShapeError(
      `routingChange: retrievals of [${tokens}, ${heads}, ${k}] and [${after.tokens}, ${after.heads}, ${after.k}]`,
    );
  }
  if (tokens * heads === 0) return Number.NaN;
  let changed = 0;
  for (let g = 0; g < tokens * heads; g++) {
    const now = new Set(after.ids.subarray(g * k, (g + 1) * k));
    for (let s = 0; s < k; s++) if (!now.has(before.ids[g * k + s] ?? -1)) changed++;
  }
  return changed / (tokens * heads * k);
}

/** A model that reports, per PEER layer, what it retrieved (a `PeerClassifier` is one). */
export interface RetrievingModel {
  predictAsync(x: tf.Tensor2D, options: { task?: number }): Promise<{ retrievals: readonly PeerRetrieval[] }>;
}

/** The retrieval of every PEER layer for inputs x (asynchronous reads only). */
export async function captureRetrievals(
  model: RetrievingModel,
  x: tf.Tensor2D,
  task = 0,
): Promise<PeerRetrieval[]> {
  const { retrievals } = await model.predictAsync(x, { task });
  return [...retrievals];
}
