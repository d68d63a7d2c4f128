import {
  type AdapterStore,
  AlreadyExistsError,
  type Job,
  type JsonObject,
  NotFoundError,
  PostgresContinualStateStore,
  type Version,
} from '@peer/adapter-store';
import { continualSummary } from './continual-summary.js';
import type { TrainAdapterOutput, TrainModelOutput } from './train-task-types.js';
import type { PreparedTraining } from './training-input.js';

/** Who a job's commits and alias moves are attributed to. */
export function jobAuthor(job: Job): string {
  return `job:${job.id}`;
}

/**
 * Commits a model-training result as a child of the version it trained from: only the changed blocks are
 * written (the rest is inherited by reference), with lineage `{ streamId, ingestFrom, ingestTo, extra:
 * { jobId } }` (the store's unique index on the job id makes a second commit of the job fail) and the
 * version metrics of the shared contract. The regularizers' state is saved first, so a crash between the
 * two never leaves a committed version without it.
 */
export async function commitModelResult(
  store: AdapterStore,
  job: Job,
  prepared: PreparedTraining,
  output: TrainModelOutput,
): Promise<Version> {
  const { current, parent, trained } = prepared;
  const stream = current.stream.name;
  await saveRegularization(store, job, output);
  const metrics = {
    jobId: job.id,
    stream,
    ...output.metrics,
    continual: continualSummary([...trained, { stream, accuracy: output.metrics.accuracy }]),
  };
  const { version } = await store.commitVersion({
    modelId: job.modelId,
    parentId: parent.id,
    blocks: output.changed,
    config: output.manifest as unknown as JsonObject,
    lineage: {
      streamId: current.stream.id,
      ingestFrom: current.range?.[0] ?? null,
      ingestTo: current.range?.[1] ?? null,
      extra: { jobId: job.id, attempt: job.attempts },
    },
    metrics: JSON.parse(JSON.stringify(metrics)) as JsonObject,
    message: `train on stream '${stream}' (${output.metrics.steps} steps)`,
    author: jobAuthor(job),
  });
  return version;
}

/**
 * Commits an adapter-training result as the next version of the adapter line named in the spec (created on
 * first use, targeting the module the adapter was trained on). Its lineage names the base version too.
 */
export async function commitAdapterResult(
  store: AdapterStore,
  job: Job,
  prepared: PreparedTraining,
  output: TrainAdapterOutput,
  name: string,
): Promise<Version> {
  const { current, parent } = prepared;
  const line = await adapterLine(store, job.modelId, name, output);
  const { version } = await store.commitAdapterVersion({
    adapterId: line.adapterId,
    parentId: line.headId,
    rank: output.rank,
    alpha: output.alpha,
    a: output.a,
    b: output.b,
    dIn: output.dIn,
    dOut: output.dOut,
    retrievalKey: output.retrievalKey,
    lineage: {
      streamId: current.stream.id,
      ingestFrom: current.range?.[0] ?? null,
      ingestTo: current.range?.[1] ?? null,
      extra: { jobId: job.id, attempt: job.attempts, baseVersionId: parent.id },
    },
    metrics: JSON.parse(
      JSON.stringify({ jobId: job.id, stream: current.stream.name, ...output.metrics }),
    ) as JsonObject,
    message: `adapter '${name}' on stream '${current.stream.name}' (${output.metrics.steps} steps)`,
    author: jobAuthor(job),
  });
  return version;
}

/** The adapter line of a model by name, with its head, created when missing. */
async function adapterLine(
  store: AdapterStore,
  modelId: string,
  name: string,
  output: TrainAdapterOutput,
): Promise<{ adapterId: string; headId: string | null }> {
  const found = (await store.listAdapterKeys(modelId)).find((k) => k.name === name);
  if (found) return { adapterId: found.adapterId, headId: found.versionId };
  // A line without versions yet: created by an earlier attempt of this job that died before committing.
  const line =
    (await store.findAdapter(modelId, name)) ??
    (await store
      .createAdapter({
        modelId,
        name,
        targetLayer: output.targetLayer,
        config: { rank: output.rank, alpha: output.alpha },
      })
      .catch(async (error: unknown) => {
        // Two attempts raced to create it: take the winner's.
        if (!(error instanceof AlreadyExistsError)) throw error;
        const raced = await store.findAdapter(modelId, name);
        if (!raced) throw error;
        return raced;
      }));
  return { adapterId: line.id, headId: null };
}

/** Saves what the regularizers computed for the new version; a state saved by an earlier attempt is kept. */
async function saveRegularization(store: AdapterStore, job: Job, output: TrainModelOutput): Promise<void> {
  if (output.regularization.length === 0) return;
  const state = await PostgresContinualStateStore.forModel(store, job.modelId, { author: 'peer-jobs' });
  for (const r of output.regularization) {
    try {
      await state.saveRegularization(r.key, r.method, r.state);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
}

/** Moves (or creates) an alias of a line to `versionId`, attributed to the job. */
export async function promoteAlias(
  store: AdapterStore,
  job: Job,
  lineId: string,
  name: string,
  versionId: string,
): Promise<void> {
  const author = { actor: jobAuthor(job), reason: 'promoted by a finished training job' };
  try {
    const alias = await store.getAlias(lineId, name);
    if (alias.versionId !== versionId) await store.moveAlias({ modelId: lineId, name, versionId, ...author });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    try {
      await store.createAlias({ modelId: lineId, name, versionId, ...author });
    } catch (raced) {
      // Created concurrently: move it instead.
      if (!(raced instanceof AlreadyExistsError)) throw raced;
      await store.moveAlias({ modelId: lineId, name, versionId, ...author });
    }
  }
}
