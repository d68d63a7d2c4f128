import type { AdapterStore, CommitResult, JsonObject, Model } from '@peer/adapter-store';
import { PeerClassifier, serializeClassifier } from '@peer/core';
import type { ModelSpec } from './model-spec.js';

/**
 * Commits version 1 of a new model: its initial (untrained) weights from the spec's seed, so that every
 * later version has a parent and a rollback target.
 */
export async function commitInitialVersion(
  store: AdapterStore,
  model: Model,
  spec: ModelSpec,
  author: string,
): Promise<CommitResult> {
  const classifier = new PeerClassifier(spec.classifier, { seed: spec.seed });
  try {
    const { blocks, manifest } = serializeClassifier(classifier);
    return await store.commitVersion({
      modelId: model.id,
      parentId: null,
      blocks,
      config: JSON.parse(JSON.stringify(manifest)) as JsonObject,
      message: 'initial weights',
      author,
    });
  } finally {
    classifier.dispose();
  }
}
