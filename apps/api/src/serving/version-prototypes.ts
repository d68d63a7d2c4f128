import { type AdapterStore, PostgresContinualStateStore, type Version } from '@peer/adapter-store';
import { PROTOTYPE_STATE_METHOD, restorePrototypes, type SavedPrototypes } from '@peer/core';
import { regularizationKey } from '../jobs/training-input.js';

/** Versions whose lookup result is kept: prototypes are small (classes × perClass × dim floats). */
const MAX_ENTRIES = 64;

/**
 * The class prototypes a training job saved with a version, for predicting as the job measured it. Versions
 * are immutable and a job saves its state before committing its version, so a lookup, found or not, never
 * changes: results are kept per version id (least recently used dropped beyond {@link MAX_ENTRIES}).
 * Only versions whose job ran the `class-prototypes` strategy are looked up at all; the lookup never writes.
 */
export class VersionPrototypes {
  private readonly entries = new Map<string, Promise<SavedPrototypes | null>>();

  constructor(private readonly store: AdapterStore) {}

  /** The version's prototypes, or null when its job saved none. */
  of(version: Version): Promise<SavedPrototypes | null> {
    const cached = this.entries.get(version.id);
    if (cached) {
      this.entries.delete(version.id);
      this.entries.set(version.id, cached);
      return cached;
    }
    const loading = this.load(version);
    this.entries.set(version.id, loading);
    // A failed lookup (a database hiccup) is not remembered: the next request tries again.
    loading.catch(() => {
      if (this.entries.get(version.id) === loading) this.entries.delete(version.id);
    });
    for (const key of this.entries.keys()) {
      if (this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(key);
    }
    return loading;
  }

  private async load(version: Version): Promise<SavedPrototypes | null> {
    const jobId = version.lineage.extra.jobId;
    if (typeof jobId !== 'string' || !ranPrototypes(version)) return null;
    const state = await PostgresContinualStateStore.existingForModel(this.store, version.modelId, {
      author: 'peer-serving',
    });
    const saved = await state?.loadRegularization(regularizationKey(jobId), PROTOTYPE_STATE_METHOD);
    return saved ? restorePrototypes(saved) : null;
  }
}

/** Whether the job that made `version` listed the class-prototypes strategy (its metrics say so). */
function ranPrototypes(version: Version): boolean {
  const strategies = version.metrics.strategies;
  return (
    Array.isArray(strategies) &&
    strategies.some(
      (s) => typeof s === 'object' && s !== null && !Array.isArray(s) && s.name === PROTOTYPE_STATE_METHOD,
    )
  );
}
