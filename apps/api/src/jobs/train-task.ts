import {
  type AsyncClassifier,
  type ClassifierManifest,
  type ContinualStream,
  deserializeClassifier,
  FreezeAndGrowPlugin,
  type PeerClassifier,
  type StreamContext,
  serializeClassifier,
  type TensorBlock,
} from '@peer/core';
import { tf } from '@peer/core/backend';
import { trainAdapterTask } from './adapter-task.js';
import { heldOutAccuracy, usageCounters } from './held-out-eval.js';
import { JobStateStore } from './job-state-store.js';
import { strategyPlugins } from './strategy-plugins.js';
import { NoTrainingDataError } from './task-errors.js';
import { trainSteps } from './train-steps.js';
import type {
  TaskStream,
  TrainModelOutput,
  TrainTaskInput,
  TrainTaskOptions,
  TrainTaskOutput,
  UsageGrid,
} from './train-task-types.js';

/**
 * One training job's computation, with no store and no HTTP: rebuild the parent version, learn the stream
 * (grow the pool with the strategy's plugins, or train a LoRA adapter), measure held-out accuracy and expert
 * usage, and return only what changed. Runs in the training thread; deterministic for a given input.
 */
export async function runTrainTask(
  input: TrainTaskInput,
  options: TrainTaskOptions = {},
): Promise<TrainTaskOutput> {
  if (input.current.train.size === 0) {
    throw new NoTrainingDataError(`stream '${input.current.name}' has no acknowledged records to train on`);
  }
  const before = tf.memory().numTensors;
  const model = deserializeClassifier(input.manifest, input.blocks);
  let output: Omit<TrainTaskOutput, 'tensors'>;
  try {
    output =
      input.kind === 'train-adapter'
        ? await trainAdapterTask(model, input, options)
        : await trainModel(model, input, options);
  } finally {
    model.dispose();
  }
  return { ...output, tensors: { before, after: tf.memory().numTensors } } as TrainTaskOutput;
}

async function trainModel(
  model: PeerClassifier,
  input: TrainTaskInput,
  options: TrainTaskOptions,
): Promise<Omit<TrainModelOutput, 'tensors'>> {
  const { spec, scenario } = input;
  const plugins = strategyPlugins(spec.strategy, { rows: spec.rows, seed: spec.seed, scenario });
  const store = new JobStateStore(input.regularization, input.replay);
  const streams: ContinualStream[] = [...input.history, input.current].map((s, i) => continualStream(s, i));
  const index = streams.length - 1;
  const headOf = (task: number) => (scenario === 'task' ? task : 0);
  const ctx: StreamContext = {
    model,
    scenario,
    streamIndex: index,
    stream: streams[index] as ContinualStream,
    streams,
    store,
    previousVersionKey: input.historyKeys[index - 1],
    pastVersionKeys: [...input.historyKeys],
    versionKey: `job:${input.jobId}`,
    headOf,
  };
  try {
    for (const p of plugins) await p.beforeStream?.(ctx);
    const history = await trainSteps(model, ctx, plugins, spec, options);
    for (const p of plugins) await p.afterStream?.(ctx);

    const distinct = distinctStreams([...input.history, input.current]);
    const usage = usageCounters(model);
    // Measured as the version will serve: through the last strategy that changes how the model predicts.
    const predictor = plugins.reduce<AsyncClassifier>((p, plugin) => plugin.predictor?.(ctx) ?? p, model);
    const accuracy: Record<string, number> = {};
    for (const s of distinct)
      accuracy[s.name] = await heldOutAccuracy(predictor, s.heldOut, headOf(s.task), usage);

    const { manifest, blocks } = serializeClassifier(model);
    const layerNames = Object.keys(manifest.peer);
    const grown = plugins
      .find((p): p is FreezeAndGrowPlugin => p instanceof FreezeAndGrowPlugin)
      ?.grown.at(-1);
    const rowsAdded: Record<string, [number, number]> = {};
    const usageByLayer: Record<string, UsageGrid> = {};
    model.peerLayers().forEach((layer, l) => {
      const name = layerNames[l] ?? `peer.${l}`;
      const range = grown?.ranges[l];
      const cols = layer.experts.cols;
      if (range) rowsAdded[name] = [range.from / cols, range.to / cols];
      const counter = usage[l];
      if (counter) usageByLayer[name] = counter.grid();
    });
    const losses = history.losses;
    return {
      kind: 'train',
      manifest: jsonManifest(manifest),
      changed: changedBlocks(blocks, input.blocks),
      metrics: {
        steps: history.steps,
        meanLoss: finite(losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length)),
        finalLoss: finite(losses[losses.length - 1] ?? 0),
        elapsedMs: Math.round(history.elapsedMs),
        experts: model.peerLayers().map((l) => l.numExperts),
        rowsAdded,
        accuracy,
        usage: usageByLayer,
        strategies: plugins.map((p) => {
          const d = p.describe();
          return { name: d.name, settings: { ...d.settings } };
        }),
      },
      regularization: store.saved,
    };
  } finally {
    for (const p of plugins) p.dispose?.();
  }
}

/** A job stream as the core's continual stream; ids are per training version, since a stream may repeat. */
function continualStream(s: TaskStream, i: number): ContinualStream {
  return { id: `${s.name}#${i}`, task: s.task, train: s.train, test: s.heldOut };
}

/** The last entry of each stream name, in order of first appearance. */
function distinctStreams(streams: readonly TaskStream[]): TaskStream[] {
  const byName = new Map<string, TaskStream>();
  for (const s of streams) byName.set(s.name, s);
  return [...new Set(streams.map((s) => s.name))].map((n) => byName.get(n) as TaskStream);
}

/**
 * The blocks that differ from the parent's, by name and bytes (growth leaves old rows byte-identical, so only
 * new rows, trained parameters and heads come back; the store carries the rest over by reference). Each
 * returned block owns its buffer, so it can be transferred to the runner.
 */
export function changedBlocks(blocks: Iterable<TensorBlock>, parent: readonly TensorBlock[]): TensorBlock[] {
  const old = new Map(parent.map((b) => [b.name, b]));
  const out: TensorBlock[] = [];
  for (const block of blocks) {
    const prev = old.get(block.name);
    if (prev && sameBlock(prev, block)) continue;
    out.push({ ...block, shape: [...block.shape], bytes: block.bytes.slice() });
  }
  return out;
}

function sameBlock(a: TensorBlock, b: TensorBlock): boolean {
  if (a.dtype !== b.dtype || a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    return false;
  }
  return Buffer.compare(a.bytes, b.bytes) === 0;
}

function jsonManifest(manifest: ClassifierManifest): ClassifierManifest {
  return JSON.parse(JSON.stringify(manifest)) as ClassifierManifest;
}

/** JSON has no NaN/Infinity: a diverged loss is reported as -1 rather than breaking the commit. */
function finite(value: number): number {
  return Number.isFinite(value) ? value : -1;
}
