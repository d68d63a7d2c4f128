import { PeerConfigError } from '../errors/peer-error.js';
import { type ContinualMetrics, continualMetrics } from '../eval/continual-metrics.js';
import { routingChange } from '../eval/routing-stability.js';
import type { ExpertUsageStats } from '../metrics/expert-usage.js';
import type { PeerClassifier } from '../models/classifier.js';
import { BatchSampler } from '../train/batches.js';
import { Trainer } from '../train/trainer.js';
import { type ContinualConfig, type ContinualConfigInput, parseContinualConfig } from './learner-config.js';
import type { ContinualPlugin, PluginDescription, StreamContext } from './plugin.js';
import { batchOf, type ContinualStream, headOf, type Scenario } from './scenario.js';
import { type ContinualStateStore, InMemoryContinualStateStore } from './state-store.js';
import { stepLoss } from './step-loss.js';
import { evaluateStreams, probeRoutes } from './stream-evaluation.js';

/** What training one stream did and measured. */
export interface StreamReport {
  readonly id: string;
  readonly steps: number;
  readonly meanLoss: number;
  readonly finalLoss: number;
  readonly elapsedMs: number;
  /** Experts per PEER layer after the stream. */
  readonly experts: readonly number[];
  /** Usage and unevenness per PEER layer over the test sets of every stream seen so far. */
  readonly usage: readonly ExpertUsageStats[];
  /** Per past stream: share of its probe inputs' top-k expert ids that changed during this stream, per layer. */
  readonly routingChange: readonly { readonly stream: string; readonly perLayer: readonly number[] }[];
}

/** Result of {@link ContinualLearner.run}. */
export interface ContinualReport {
  readonly scenario: Scenario;
  readonly strategies: readonly PluginDescription[];
  readonly streams: readonly string[];
  /** R[i][j]: accuracy on stream j's test set after training stream i (NaN where j has no test set). */
  readonly accuracy: readonly (readonly number[])[];
  /** Accuracy of the untrained model on each stream's test set (FWT's b_j). */
  readonly baseline: readonly number[];
  readonly metrics: ContinualMetrics;
  readonly reports: readonly StreamReport[];
}

/**
 * Trains one model on a sequence of streams with strategy plugins (Avalanche's strategy + plugins pattern):
 * per stream, `beforeStream` hooks, `steps` Trainer steps on batches passed through `batchTransform` hooks with
 * plugin penalties added to the loss, then `afterStream` hooks and an evaluation on every stream's test set.
 * With no plugin it is plain fine-tuning. A fresh Trainer (fresh Adam moments) is made per stream.
 *
 * @example
 * const learner = new ContinualLearner(model, { scenario: 'task', steps: 500 }, { plugins: [new FreezeAndGrowPlugin()] });
 * const report = await learner.run(streams);
 */
export class ContinualLearner {
  readonly config: ContinualConfig;
  readonly plugins: readonly ContinualPlugin[];
  readonly store: ContinualStateStore;

  constructor(
    readonly model: PeerClassifier,
    config: ContinualConfigInput,
    options: { plugins?: readonly ContinualPlugin[]; store?: ContinualStateStore } = {},
  ) {
    this.config = parseContinualConfig(config);
    this.plugins = options.plugins ?? [];
    this.store = options.store ?? new InMemoryContinualStateStore();
  }

  /** Which strategies are on, with their settings (an empty list is plain fine-tuning). */
  describe(): { scenario: Scenario; strategies: PluginDescription[] } {
    const strategies = this.plugins.map((p) => p.describe());
    return {
      scenario: this.config.scenario,
      strategies: strategies.length > 0 ? strategies : [{ name: 'fine-tune', settings: {} }],
    };
  }

  async run(
    streams: readonly ContinualStream[],
    options: { onStream?: (r: StreamReport) => void | Promise<void>; signal?: AbortSignal } = {},
  ): Promise<ContinualReport> {
    this.check(streams);
    const { scenario } = this.config;
    const head = (task: number) => headOf(scenario, task);
    const evalOptions = { head, batchSize: this.config.evalBatchSize, probeSize: this.config.probeSize };
    const baseline = (await evaluateStreams(this.model, streams, { ...evalOptions, seenUpTo: -1 }))
      .accuracies;
    const accuracy: number[][] = [];
    const reports: StreamReport[] = [];
    const versionKeys: string[] = [];
    for (const [i, stream] of streams.entries()) {
      if (options.signal?.aborted) break;
      const ctx: StreamContext = {
        model: this.model,
        scenario,
        streamIndex: i,
        stream,
        streams,
        store: this.store,
        previousVersionKey: versionKeys[i - 1],
        pastVersionKeys: [...versionKeys],
        versionKey: `${this.config.runId}/after-${stream.id}`,
        headOf: head,
      };
      const probes = await probeRoutes(this.model, streams.slice(0, i), evalOptions);
      const masked = scenario === 'class' && this.config.activeClasses !== 'all';
      const seen = seenClasses(streams.slice(0, i + 1));
      if (masked) {
        this.model.setActiveClasses(
          0,
          this.config.activeClasses === 'current' ? seenClasses([stream]) : seen,
        );
      }
      for (const p of this.plugins) await p.beforeStream?.(ctx);
      const history = await this.train(ctx, options.signal);
      if (masked) this.model.setActiveClasses(0, seen);
      for (const p of this.plugins) await p.afterStream?.(ctx);
      versionKeys.push(ctx.versionKey);
      const predictor = this.plugins.map((p) => p.predictor?.(ctx)).reduce((last, c) => c ?? last, undefined);
      const evaluation = await evaluateStreams(this.model, streams, {
        ...evalOptions,
        seenUpTo: i,
        ...(predictor ? { classifier: predictor } : {}),
      });
      accuracy.push(evaluation.accuracies);
      const after = await probeRoutes(this.model, streams.slice(0, i), evalOptions);
      const losses = history.losses;
      const report: StreamReport = {
        id: stream.id,
        steps: history.steps,
        meanLoss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length),
        finalLoss: losses[losses.length - 1] ?? Number.NaN,
        elapsedMs: history.elapsedMs,
        experts: this.model.peerLayers().map((l) => l.numExperts),
        usage: evaluation.usage,
        routingChange: probes.map((before, j) => ({
          stream: streams[j]?.id ?? '',
          perLayer: before.map((r, l) => {
            const now = after[j]?.[l];
            return now ? routingChange(r, now) : Number.NaN;
          }),
        })),
      };
      reports.push(report);
      await options.onStream?.(report);
    }
    const square = accuracy.map((row) => row.slice(0, accuracy.length));
    return {
      ...this.describe(),
      streams: streams.map((s) => s.id),
      accuracy,
      baseline,
      metrics: continualMetrics(square, baseline.slice(0, accuracy.length)),
      reports,
    };
  }

  /** Frees what the plugins hold (teachers, anchors); the model is the caller's. */
  dispose(): void {
    for (const p of this.plugins) p.dispose?.();
  }

  private async train(ctx: StreamContext, signal?: AbortSignal) {
    const { steps, batchSize, seed } = this.config;
    const { train, task } = ctx.stream;
    const trainer = new Trainer(this.model, this.config.trainer);
    const sampler = new BatchSampler(train.size, seed + ctx.streamIndex);
    try {
      return await trainer.fit({
        steps,
        batchSize,
        ...(signal ? { signal } : {}),
        loss: () => stepLoss(this.model, ctx, this.plugins, batchOf(train, task, sampler.next(batchSize))),
      });
    } finally {
      trainer.dispose();
    }
  }

  private check(streams: readonly ContinualStream[]): void {
    if (streams.length === 0) throw new PeerConfigError('streams', 'a non-empty list', streams.length);
    const ids = new Set<string>();
    streams.forEach((s, i) => {
      if (ids.has(s.id)) throw new PeerConfigError(`streams[${i}].id`, 'unique', s.id);
      ids.add(s.id);
      if (s.train.dim !== this.model.config.inDim) {
        throw new PeerConfigError(
          `streams[${i}].train.dim`,
          `the model's inDim (${this.model.config.inDim})`,
          s.train.dim,
        );
      }
      const heads = this.model.heads.length;
      if (this.config.scenario === 'task' && (s.task < 0 || s.task >= heads)) {
        throw new PeerConfigError(
          `streams[${i}].task`,
          `in [0, ${heads - 1}] (one head per task in task-IL)`,
          s.task,
        );
      }
    });
  }
}

/** Every label of the given streams' training data, ascending (the active classes of class-IL). */
function seenClasses(streams: readonly ContinualStream[]): number[] {
  const seen = new Set<number>();
  for (const s of streams) for (const y of s.train.y) seen.add(y);
  return [...seen].sort((a, b) => a - b);
}
