import type { ContinualStream, Scenario } from '../../src/continual/scenario.js';
import { loadMnist, type Mnist, splitMnist, splitMnistStreams } from '../../src/eval/split-mnist.js';
import type { CellCache, CellKey } from './cell-cache.js';
import { appliesTo, methodSpec } from './methods.js';
import { aggregate, type BenchRow } from './results.js';
import { type CellResult, runCell } from './run-cell.js';

/** What one invocation of the benchmark runs. */
export interface BenchmarkOptions {
  readonly scenarios: readonly Scenario[];
  /** Method ids (see `METHODS`, plus `default`). */
  readonly methods: readonly string[];
  readonly seeds: readonly number[];
  /** Iterations per task (protocol: 2000). */
  readonly iterations: number;
  /** Protocol: 128. */
  readonly batchSize: number;
  /** Protocol: Adam, 1e-3. */
  readonly learningRate: number;
  /** Score on the test split (reported numbers) or the validation split held out of train (tuning). */
  readonly evaluateOn: 'test' | 'validation';
  /** Share of MNIST train held out as validation before the split (seed 0, the same for every run). */
  readonly validationFraction: number;
  /** First rows of MNIST train / test only (quick runs and the smoke test); undefined: all. */
  readonly trainLimit?: number;
  readonly testLimit?: number;
}

/** Progress and results as they come: a line of progress, a finished (scenario, method) row. */
export interface BenchmarkHooks {
  readonly log?: (line: string) => void;
  readonly onRow?: (row: BenchRow, cells: readonly CellResult[]) => void;
  /** Where finished cells are recorded; with `resume`, recorded cells are reused instead of run again. */
  readonly cells?: { readonly cache: CellCache; readonly resume: boolean };
}

/** Split MNIST streams of a scenario: 5 tasks of 2 digits, labels in the scenario's space. */
export function scenarioStreams(
  mnist: Mnist,
  scenario: Scenario,
  options: BenchmarkOptions,
): ContinualStream[] {
  const tasks = splitMnist(mnist, { scenario, validationFraction: options.validationFraction, seed: 0 });
  return splitMnistStreams(tasks, options.evaluateOn);
}

/**
 * Runs every (scenario, method, seed) cell and returns one row per (scenario, method), mean ± sd over seeds.
 * Models, plugins and optimiser state are made fresh per cell and disposed after it.
 */
export async function runSplitMnistBenchmark(
  options: BenchmarkOptions,
  hooks: BenchmarkHooks = {},
): Promise<BenchRow[]> {
  const log = hooks.log ?? (() => {});
  const mnist = await loadMnist({
    ...(options.trainLimit === undefined ? {} : { trainLimit: options.trainLimit }),
    ...(options.testLimit === undefined ? {} : { testLimit: options.testLimit }),
  });
  const rows: BenchRow[] = [];
  const planned = options.scenarios.flatMap((s) => options.methods.filter((m) => appliesTo(m, s)));
  const total = planned.length * options.seeds.length;
  let done = 0;
  let ran = 0;
  const started = performance.now();
  for (const scenario of options.scenarios) {
    const streams = scenarioStreams(mnist, scenario, options);
    for (const id of options.methods.filter((m) => appliesTo(m, scenario))) {
      const spec = methodSpec(id, scenario);
      const cells: CellResult[] = [];
      for (const seed of options.seeds) {
        const tag = `[split-mnist] ${scenario}-IL ${id} seed ${seed}`;
        const key: CellKey = {
          scenario,
          recipe: spec.recipe ?? spec.id,
          seed,
          iterations: options.iterations,
          evaluateOn: options.evaluateOn,
          trainLimit: options.trainLimit ?? null,
          testLimit: options.testLimit ?? null,
        };
        const recorded = hooks.cells?.resume ? hooks.cells.cache.find(key) : undefined;
        done++;
        if (recorded) {
          // The recorded cell under this run's row name (`default` or its recipe's own name).
          cells.push({ ...recorded.cell, method: spec.method });
          log(
            `${tag}: ACC ${(100 * recorded.cell.acc).toFixed(2)}% recorded by ${recorded.commit ?? 'an unknown tree'} ` +
              `at ${recorded.finishedAt} (${done}/${total})`,
          );
          continue;
        }
        const cell = await runCell(spec, scenario, seed, streams, {
          iterations: options.iterations,
          batchSize: options.batchSize,
          learningRate: options.learningRate,
          progress: (line) => log(`${tag} ${line}`),
        });
        hooks.cells?.cache.add(key, cell);
        cells.push(cell);
        ran++;
        const elapsed = (performance.now() - started) / 1000;
        log(
          `${tag}: ACC ${(100 * cell.acc).toFixed(2)}% in ${cell.seconds.toFixed(0)} s ` +
            `(${done}/${total} runs, ${elapsed.toFixed(0)} s elapsed, ~${((elapsed / ran) * (total - done)).toFixed(0)} s left)`,
        );
      }
      const row = aggregate(cells, {
        replayPerClass: spec.replayPerClass,
        iterations: options.iterations,
        ...(spec.prototypes ? { prototypesPerClass: spec.prototypes.perClass } : {}),
      });
      rows.push(row);
      hooks.onRow?.(row, cells);
    }
  }
  return rows;
}
