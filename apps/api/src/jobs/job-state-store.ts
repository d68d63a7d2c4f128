import {
  type ContinualStateStore,
  InMemoryContinualStateStore,
  type RegularizationState,
  type ReplaySnapshot,
} from '@peer/core';
import type { StoredRegularization, TrainTaskInput } from './train-task-types.js';

/**
 * The continual state a training thread sees: the regularization state of the lineage's earlier versions
 * (loaded by the runner), and one replay snapshot built from the store's ingest reservoirs of the earlier
 * streams, served for whichever stream the replay plugin asks about. What the plugins save is collected in
 * `saved` for the runner to persist; the plugins' own replay snapshots are dropped, since the store's
 * reservoirs (sampled at ingest) are the replay buffer of record.
 */
export class JobStateStore implements ContinualStateStore {
  readonly saved: StoredRegularization[] = [];
  private readonly memory = new InMemoryContinualStateStore();
  private readonly preloaded: Promise<void>;
  private readonly snapshot: ReplaySnapshot | undefined;

  constructor(regularization: readonly StoredRegularization[], replay: TrainTaskInput['replay']) {
    this.preloaded = Promise.all(
      regularization.map((r) => this.memory.saveRegularization(r.key, r.method, r.state)),
    ).then(() => undefined);
    this.snapshot = replaySnapshot(replay);
  }

  async saveReplay(): Promise<void> {}

  async loadReplay(): Promise<ReplaySnapshot | undefined> {
    return this.snapshot;
  }

  async saveRegularization(versionKey: string, method: string, state: RegularizationState): Promise<void> {
    await this.preloaded;
    await this.memory.saveRegularization(versionKey, method, state);
    this.saved.push({ key: versionKey, method, state });
  }

  async loadRegularization(versionKey: string, method: string): Promise<RegularizationState | undefined> {
    await this.preloaded;
    return this.memory.loadRegularization(versionKey, method);
  }
}

/**
 * One unbalanced reservoir holding every replay example: the store's reservoirs are already uniform samples
 * of each stream, so sampling uniformly from their union is the replay the plugin would do.
 */
function replaySnapshot(replay: TrainTaskInput['replay']): ReplaySnapshot | undefined {
  const n = replay.y.length;
  if (n === 0) return undefined;
  const items = Array.from({ length: n }, (_, i) => ({
    x: Array.from(replay.x.subarray(i * replay.dim, (i + 1) * replay.dim)),
    y: replay.y[i] ?? 0,
    task: replay.task[i] ?? 0,
  }));
  return {
    kind: 'reservoir',
    classBalanced: false,
    rngState: 0,
    reservoirs: { all: { seen: n, capacity: n, items } },
  };
}
