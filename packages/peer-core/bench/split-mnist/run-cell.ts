import { ContinualLearner, type ContinualReport } from '../../src/continual/continual-learner.js';
import type { ContinualStream, Scenario } from '../../src/continual/scenario.js';
import { trainJoint } from './joint.js';
import type { MethodSpec } from './methods.js';
import { buildModel } from './models.js';

/** One run: a method in a scenario with one seed. Accuracies are fractions. */
export interface CellResult {
  readonly scenario: Scenario;
  readonly method: string;
  readonly seed: number;
  /** Average accuracy over the tasks after the last one. */
  readonly acc: number;
  /** Lopez-Paz & Ranzato's BWT; null for joint training (a single training phase has none). */
  readonly bwt: number | null;
  /** Chaudhry et al.'s max-based average forgetting; null for joint training. */
  readonly forgetting: number | null;
  /** R[i][j] after each task (joint: one row). */
  readonly accuracy: readonly (readonly number[])[];
  readonly seconds: number;
  /** PEER models only (null otherwise): see {@link peerRouting}. */
  readonly routing: PeerRouting | null;
}

/** What the PEER layer's routing did over a run (first PEER layer; fractions). */
export interface PeerRouting {
  /**
   * Share of an old stream's probe inputs' top-k expert ids that changed while one later stream trained,
   * averaged over every (later stream, old stream) pair: 0 means old inputs are routed exactly as before.
   */
  readonly change: number;
  /** Share of the final pool that the test sets of all streams reach (usage, He 2024 Table 2). */
  readonly usage: number;
  /** KL(gate mass ‖ uniform) over the final pool, nats. */
  readonly unevenness: number;
}

/** The routing summary of a learner report, or null for a model without PEER layers. */
export function peerRouting(report: ContinualReport): PeerRouting | null {
  const last = report.reports[report.reports.length - 1];
  const final = last?.usage[0];
  if (!last || !final) return null;
  const changes = report.reports.flatMap((r) => r.routingChange.map((c) => c.perLayer[0] ?? Number.NaN));
  const finite = changes.filter((c) => Number.isFinite(c));
  return {
    change: finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length,
    usage: final.usage,
    unevenness: final.unevenness,
  };
}

/** How every cell trains: the protocol's batch and optimiser, with iterations per task set by the CLI. */
export interface CellOptions {
  readonly iterations: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** Called after each task with a one-line summary. */
  readonly progress?: (line: string) => void;
}

/**
 * Trains a fresh model with `spec` on the five streams and measures it. Sequential methods run through the
 * {@link ContinualLearner} (fresh Adam per task, as in the protocol; class-IL with "active classes" = the
 * classes seen so far); joint training gets the same total iterations on all data mixed.
 */
export async function runCell(
  spec: MethodSpec,
  scenario: Scenario,
  seed: number,
  streams: readonly ContinualStream[],
  options: CellOptions,
): Promise<CellResult> {
  const started = performance.now();
  const model = buildModel(spec.family, scenario, seed);
  const trainer = { learningRate: options.learningRate, progressEvery: 10_000 };
  try {
    if (spec.joint) {
      const final = await trainJoint(model, streams, {
        scenario,
        steps: options.iterations * streams.length,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        seed,
      });
      const acc = final.reduce((a, b) => a + b, 0) / final.length;
      return {
        scenario,
        method: spec.method,
        seed,
        acc,
        bwt: null,
        forgetting: null,
        accuracy: [final],
        seconds: (performance.now() - started) / 1000,
        routing: null,
      };
    }
    const learner = new ContinualLearner(
      model,
      {
        scenario,
        steps: options.iterations,
        batchSize: options.batchSize,
        trainer,
        activeClasses: spec.activeClasses ?? 'seen',
        probeSize: 64,
        runId: `${scenario}-${spec.id}-${seed}`,
        seed,
      },
      { plugins: spec.plugins(seed) },
    );
    try {
      const report = await learner.run(streams, {
        onStream: (r) =>
          options.progress?.(
            `${r.id}: ${r.steps} steps in ${(r.elapsedMs / 1000).toFixed(1)} s, mean loss ${r.meanLoss.toFixed(3)}`,
          ),
      });
      const { acc, bwt, forgetting } = report.metrics;
      return {
        scenario,
        method: spec.method,
        seed,
        acc,
        bwt,
        forgetting,
        accuracy: report.accuracy,
        seconds: (performance.now() - started) / 1000,
        routing: peerRouting(report),
      };
    } finally {
      learner.dispose();
    }
  } finally {
    model.dispose();
  }
}
