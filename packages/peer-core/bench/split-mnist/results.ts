import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Scenario } from '../../src/continual/scenario.js';
import type { CellResult } from './run-cell.js';

/** One JSON row: a method in a scenario over `seeds` seeds. Accuracies and BWT/forgetting in % (points). */
export interface BenchRow {
  readonly benchmark: 'split-mnist';
  readonly scenario: Scenario;
  readonly method: string;
  readonly replay_per_class: number;
  readonly seeds: number;
  /** Iterations per task (the protocol's 2000). */
  readonly iterations: number;
  readonly acc_mean: number;
  /** Sample standard deviation over seeds; null with one seed. */
  readonly acc_sd: number | null;
  /** Mean BWT; null for joint training. */
  readonly bwt: number | null;
  /** Mean max-based forgetting (Chaudhry et al. 2018); null for joint training. */
  readonly forgetting: number | null;
  /** Methods with class prototypes only: k-means centroids kept per class (means of inputs, not examples). */
  readonly prototypes_per_class?: number;
  /**
   * PEER methods only (absent otherwise), means over seeds, first PEER layer: the share (%) of an old stream's
   * top-k expert ids that changed while a later stream trained, averaged over (later, old) stream pairs; the
   * share (%) of the final pool the test sets reach; KL(gate mass ‖ uniform) in nats.
   */
  readonly routing_change?: number;
  readonly usage?: number;
  readonly unevenness?: number;
}

export const SCENARIOS: readonly Scenario[] = ['task', 'domain', 'class'];

const round = (v: number) => Math.round(v * 100) / 100;

function meanOf(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** mean ± sample sd of fractions, as % rounded to 0.01; sd null for one value. */
export function percentStats(values: readonly number[]): { mean: number; sd: number | null } {
  const mean = meanOf(values);
  if (values.length < 2) return { mean: round(100 * mean), sd: null };
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean: round(100 * mean), sd: round(100 * Math.sqrt(variance)) };
}

/** The row of one (scenario, method) from its per-seed results. */
export function aggregate(
  cells: readonly CellResult[],
  meta: { replayPerClass: number; iterations: number; prototypesPerClass?: number },
): BenchRow {
  const first = cells[0];
  if (!first) throw new RangeError('aggregate: no results');
  const acc = percentStats(cells.map((c) => c.acc));
  const optional = (pick: (c: CellResult) => number | null) => {
    const values = cells.map(pick);
    return values.some((v) => v === null) ? null : round(100 * meanOf(values as number[]));
  };
  return {
    benchmark: 'split-mnist',
    scenario: first.scenario,
    method: first.method,
    replay_per_class: meta.replayPerClass,
    seeds: cells.length,
    iterations: meta.iterations,
    acc_mean: acc.mean,
    acc_sd: acc.sd,
    bwt: optional((c) => c.bwt),
    forgetting: optional((c) => c.forgetting),
    ...(meta.prototypesPerClass === undefined ? {} : { prototypes_per_class: meta.prototypesPerClass }),
    ...routingFields(cells),
  };
}

/** Mean routing change, usage (both %) and unevenness over seeds, when every seed's model was a PEER one. */
function routingFields(
  cells: readonly CellResult[],
): Pick<BenchRow, 'routing_change' | 'usage' | 'unevenness'> {
  const routing = cells.map((c) => c.routing);
  if (routing.some((r) => r === null)) return {};
  const all = routing as NonNullable<CellResult['routing']>[];
  return {
    routing_change: round(100 * meanOf(all.map((r) => r.change))),
    usage: round(100 * meanOf(all.map((r) => r.usage))),
    unevenness: round(meanOf(all.map((r) => r.unevenness))),
  };
}

const keyOf = (r: BenchRow) => `${r.scenario}\u0000${r.method}\u0000${r.replay_per_class}`;

/**
 * Writes `rows` into the JSON file at `path`, keeping rows of other cells already there (so the default
 * recipe or a re-run of one method can be added to an earlier run); the same cell is replaced. Returns
 * every row now in the file, in table order.
 */
export function mergeRows(
  path: string,
  rows: readonly BenchRow[],
  methodOrder: readonly string[],
): BenchRow[] {
  const previous: BenchRow[] = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as BenchRow[]) : [];
  const merged = new Map(previous.map((r) => [keyOf(r), r]));
  for (const r of rows) merged.set(keyOf(r), r);
  const rank = (m: string) => {
    const i = methodOrder.indexOf(m);
    return i === -1 ? methodOrder.length : i;
  };
  const all = [...merged.values()].sort(
    (a, b) =>
      SCENARIOS.indexOf(a.scenario) - SCENARIOS.indexOf(b.scenario) ||
      rank(a.method) - rank(b.method) ||
      a.method.localeCompare(b.method) ||
      a.replay_per_class - b.replay_per_class,
  );
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(all, null, 2)}\n`);
  return all;
}
