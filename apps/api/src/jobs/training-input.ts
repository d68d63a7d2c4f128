import {
  type AdapterStore,
  type Job,
  type JsonObject,
  type Model,
  PostgresContinualStateStore,
  type Stream,
  type Version,
} from '@peer/adapter-store';
import {
  type ClassifierManifest,
  type LabeledData,
  PROTOTYPE_STATE_METHOD,
  type Scenario,
  type TensorBlock,
} from '@peer/core';
import { scenarioOf, specOf } from '../models/model-spec.js';
import type { TrainedVersion } from './continual-summary.js';
import { JobError } from './job-errors.js';
import { isHeldOut, loadStreamData, type StreamData } from './stream-data.js';
import type { TrainSpec } from './train-spec.js';
import type { StoredRegularization, TaskStream, TrainTaskInput } from './train-task-types.js';

/** Core plugin names that keep state per version, by the strategy plugin that runs them. */
const STATEFUL: Readonly<Record<string, string>> = {
  l2: 'l2-sp',
  ewc: 'ewc',
  'online-ewc': 'online-ewc',
  'class-prototypes': PROTOTYPE_STATE_METHOD,
};

/**
 * States that accumulate: each version's holds everything before it (class prototypes carry every earlier
 * stream's centroids), so only the parent version's is loaded.
 */
const CUMULATIVE = new Set<string>([PROTOTYPE_STATE_METHOD]);

/** A job's training input plus what the runner needs to commit its result. */
export interface PreparedTraining {
  readonly model: Model;
  /** The version trained from: the model's head when the attempt started. */
  readonly parent: Version;
  readonly current: StreamData;
  /** The lineage's earlier training versions, oldest first (for the continual summary). */
  readonly trained: TrainedVersion[];
  readonly input: TrainTaskInput;
}

/**
 * Loads everything a job's training thread needs: the head version (manifest and blocks), the stream's
 * acknowledged records split into training and held-out rows, the held-out rows of every stream trained
 * along the lineage, replay examples of the earlier streams and the regularizers' stored state.
 */
export async function prepareTraining(
  store: AdapterStore,
  job: Job,
  spec: TrainSpec,
): Promise<PreparedTraining> {
  const model = await store.getModel(job.modelId);
  if (!model.headVersionId)
    throw new JobError('invalid_config', 'the model has no version to train from', false);
  const parent = await store.getVersion(model.headVersionId);
  const modelSpec = specOf(model);
  const { classifier } = modelSpec;
  const dims = { inDim: classifier.inDim, classes: classifier.classes };
  const scenario: Scenario = scenarioOf(modelSpec);
  const blocks: TensorBlock[] = [];
  // Own copies: the buffers are transferred to the thread, and a driver may hand out views of a larger one.
  for await (const b of store.loadBlocks(parent.id)) blocks.push({ ...b, bytes: b.bytes.slice() });

  const streams = new Map<string, Stream>();
  const streamOf = async (id: string) => {
    let s = streams.get(id);
    if (!s) {
      s = await store.getStream(id);
      streams.set(id, s);
    }
    return s;
  };
  const current = await loadStreamData(store, await streamOf(spec.streamId), dims, { train: true });
  if (current.train.size === 0 || current.heldOut.size === 0) {
    throw new JobError(
      'no_training_data',
      `stream '${spec.stream}' needs acknowledged records to train on and to hold out (at least 10)`,
      false,
      { trainRecords: current.train.size, heldOutRecords: current.heldOut.size },
    );
  }

  const versions = (await store.lineage(parent.id)).reverse().filter(isTrainingVersion);
  const data = new Map<string, StreamData>([[current.stream.id, current]]);
  const history: TaskStream[] = [];
  const trained: TrainedVersion[] = [];
  for (const v of versions) {
    const streamId = v.lineage.streamId as string;
    let d = data.get(streamId);
    if (!d) {
      d = await loadStreamData(store, await streamOf(streamId), dims, { train: false });
      data.set(streamId, d);
    }
    trained.push({ stream: d.stream.name, accuracy: v.metrics.accuracy as Record<string, number> });
    history.push({ name: d.stream.name, task: d.task, train: d.train, heldOut: d.heldOut });
  }

  const replay = await replayOf(
    store,
    [...data.values()].filter((d) => d !== current),
    dims.inDim,
  );
  const regularization = await storedRegularization(store, model.id, spec, versions);
  // Class prototypes switched on for a lineage that has none saved compute the earlier streams' centroids
  // from their training rows: where no replay sample holds some, those rows are read back, never the
  // held-out ones (centroids of the rows a stream's held-out accuracy is measured on would inflate it).
  const backfillsPrototypes =
    spec.strategy.plugins.includes('class-prototypes') &&
    !regularization.some((r) => r.method === PROTOTYPE_STATE_METHOD);
  // Otherwise a past stream's training rows are not reloaded: its replay sample stands in where a plugin
  // reads them, else its held-out rows, of which only the labels are read (LwF's seen classes).
  for (const [i, h] of history.entries()) {
    if (h.train.size > 0) continue;
    const sample = replay.byStream.get(h.name);
    let train = sample && sample.size > 0 ? sample : h.heldOut;
    if (train === h.heldOut && backfillsPrototypes) {
      const past = [...data.values()].find((d) => d.stream.name === h.name);
      if (past) train = (await loadStreamData(store, past.stream, dims, { train: true })).train;
    }
    history[i] = { ...h, train };
  }

  return {
    model,
    parent,
    current,
    trained,
    input: {
      jobId: job.id,
      kind: job.kind,
      spec,
      manifest: parent.config as unknown as ClassifierManifest,
      blocks,
      scenario,
      history,
      historyKeys: versions.map((v) => regularizationKey(String(v.lineage.extra.jobId ?? v.id))),
      current: {
        name: current.stream.name,
        task: current.task,
        train: current.train,
        heldOut: current.heldOut,
      },
      replay: replay.all,
      regularization,
    },
  };
}

/** The key a job's regularization state is saved under (versions are keyed by the job that made them). */
export function regularizationKey(jobId: string): string {
  return `job:${jobId}`;
}

/** A version committed by a training job of the model (it measured held-out accuracy on its stream). */
function isTrainingVersion(v: Version): boolean {
  const accuracy = v.metrics.accuracy;
  return (
    v.lineage.streamId !== null &&
    typeof accuracy === 'object' &&
    accuracy !== null &&
    !Array.isArray(accuracy)
  );
}

/**
 * Replay examples of earlier streams from the store's ingest reservoirs. A reservoir item's `sourceIndex` is
 * its stream offset (ingest offers every batch, in offset order), so held-out rows and rows of batches that
 * were never acknowledged are dropped here: replay must not train on either.
 */
async function replayOf(store: AdapterStore, streams: readonly StreamData[], dim: number) {
  const xs: number[][] = [];
  const ys: number[] = [];
  const tasks: number[] = [];
  const byStream = new Map<string, LabeledData>();
  for (const s of streams) {
    const trainable = (offset: number) =>
      !isHeldOut(offset) &&
      s.batches.some((b) => offset >= b.firstOffset && offset < b.firstOffset + b.recordCount);
    const items = (await store.loadReplay(s.stream.id).catch(() => [])).filter((i) =>
      trainable(i.sourceIndex),
    );
    const x = new Float32Array(items.length * dim);
    const y = new Int32Array(items.length);
    items.forEach(({ item }, i) => {
      const record = item as JsonObject;
      x.set(record.x as number[], i * dim);
      y[i] = record.y as number;
      xs.push(record.x as number[]);
      ys.push(record.y as number);
      tasks.push(typeof record.task === 'number' ? record.task : s.task);
    });
    byStream.set(s.stream.name, { x, y, size: items.length, dim, classes: s.heldOut.classes });
  }
  const all = {
    x: new Float32Array(xs.length * dim),
    y: Int32Array.from(ys),
    task: Int32Array.from(tasks),
    dim,
  };
  for (const [i, row] of xs.entries()) all.x.set(row, i * dim);
  return { all, byStream };
}

/** The state the strategy's regularizers saved with the lineage's earlier versions. */
async function storedRegularization(
  store: AdapterStore,
  modelId: string,
  spec: TrainSpec,
  versions: readonly Version[],
): Promise<StoredRegularization[]> {
  const methods = spec.strategy.plugins.map((p) => STATEFUL[p]).filter((m): m is string => m !== undefined);
  if (methods.length === 0 || versions.length === 0) return [];
  const state = await PostgresContinualStateStore.forModel(store, modelId, { author: 'peer-jobs' });
  const out: StoredRegularization[] = [];
  for (const [i, v] of versions.entries()) {
    const key = regularizationKey(String(v.lineage.extra.jobId ?? v.id));
    const last = i === versions.length - 1;
    for (const method of methods) {
      if (CUMULATIVE.has(method) && !last) continue;
      const saved = await state.loadRegularization(key, method);
      if (saved) out.push({ key, method, state: saved });
    }
  }
  return out;
}
