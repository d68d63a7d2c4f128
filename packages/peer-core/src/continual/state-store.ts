import type { TensorBlock } from '../serialization/tensor-block.js';

/** JSON values: what a replay snapshot is made of, so a SQL store can keep it in a `jsonb` column. */
export type JsonPrimitive = string | number | boolean | null;

/** One replayed example as plain data: input row, label in the scenario's label space, task index. */
export interface ReplayItem {
  readonly x: number[];
  readonly y: number;
  readonly task: number;
}

/** One reservoir (Vitter's Algorithm R) of a replay buffer: its counters and the kept items. */
export interface ReservoirSnapshot {
  /** Items offered so far (the `t` of Algorithm R). */
  readonly seen: number;
  readonly capacity: number;
  readonly items: ReplayItem[];
}

/**
 * A replay buffer as plain JSON data: persisting it and loading it back resumes sampling exactly (the
 * generator's whole state is one uint32). `reservoirs` has one entry, `"all"`, or one per class label when
 * the buffer is class-balanced.
 */
export interface ReplaySnapshot {
  readonly kind: 'reservoir';
  readonly classBalanced: boolean;
  readonly rngState: number;
  readonly reservoirs: Record<string, ReservoirSnapshot>;
}

/** What a regularizer keeps per model version: anchor values and (for EWC) the Fisher diagonal, as blocks. */
export interface RegularizationState {
  readonly anchors: readonly TensorBlock[];
  readonly fisher: readonly TensorBlock[];
  /** Small JSON settings (decay, strength, ...) the state was computed with. */
  readonly meta: Record<string, JsonPrimitive>;
}

/**
 * Persistence the continual learner needs, declared by the core and implemented by the store package
 * (DESIGN "Dependency direction": the core imports no database). Replay buffers are keyed by the stream after
 * which they were saved; regularization state by model version and method (`ewc`, `l2-sp`, ...).
 */
export interface ContinualStateStore {
  saveReplay(streamId: string, snapshot: ReplaySnapshot): Promise<void>;
  loadReplay(streamId: string): Promise<ReplaySnapshot | undefined>;
  saveRegularization(versionKey: string, method: string, state: RegularizationState): Promise<void>;
  loadRegularization(versionKey: string, method: string): Promise<RegularizationState | undefined>;
}

/**
 * The in-memory {@link ContinualStateStore}: replay snapshots go through JSON text (so anything that is not
 * plain data fails here, as it would in a SQL store) and blocks are copied (callers may mutate theirs).
 */
export class InMemoryContinualStateStore implements ContinualStateStore {
  private readonly replay = new Map<string, string>();
  private readonly regularization = new Map<string, RegularizationState>();

  async saveReplay(streamId: string, snapshot: ReplaySnapshot): Promise<void> {
    this.replay.set(streamId, JSON.stringify(snapshot));
  }

  async loadReplay(streamId: string): Promise<ReplaySnapshot | undefined> {
    const text = this.replay.get(streamId);
    return text === undefined ? undefined : (JSON.parse(text) as ReplaySnapshot);
  }

  async saveRegularization(versionKey: string, method: string, state: RegularizationState): Promise<void> {
    this.regularization.set(`${versionKey}\u0000${method}`, copyState(state));
  }

  async loadRegularization(versionKey: string, method: string): Promise<RegularizationState | undefined> {
    const state = this.regularization.get(`${versionKey}\u0000${method}`);
    return state ? copyState(state) : undefined;
  }
}

function copyState(state: RegularizationState): RegularizationState {
  const copy = (b: TensorBlock): TensorBlock => ({ ...b, shape: [...b.shape], bytes: b.bytes.slice() });
  return { anchors: state.anchors.map(copy), fisher: state.fisher.map(copy), meta: { ...state.meta } };
}
