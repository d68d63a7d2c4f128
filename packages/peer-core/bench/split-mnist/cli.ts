import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Scenario } from '../../src/continual/scenario.js';
import { PeerConfigError } from '../../src/errors/peer-error.js';
import type { BenchmarkOptions } from './benchmark.js';
import { METHOD_IDS, PROTOCOL_METHODS } from './methods.js';
import { SCENARIOS } from './results.js';

/** Parsed command line: what to run and where the JSON goes. */
export interface CliOptions {
  readonly bench: BenchmarkOptions;
  readonly json: string;
  /** Every finished cell, one JSON line each (default: beside the JSON, `<name>.cells.jsonl`). */
  readonly cells: string;
  /** Reuse the cells already recorded there instead of running them again. */
  readonly resume: boolean;
}

const HELP = `Split MNIST continual-learning benchmark (van de Ven & Tolias 2019 protocol).
  --iterations N     iterations per task (default 2000, the protocol's)
  --seeds K|a,b,..   K seeds (0..K-1) or an explicit list (default 5)
  --methods a,b,..   method ids (default: the 12 of issue #4, freeze-and-grow (+ replay) with fixed new keys,
                     the no-storage default of class-IL;
                     'default' is the recipe chosen on validation, candidate:* the ones it was chosen from)
  --scenarios a,b    task,domain,class (default: all three)
  --json PATH        rows merged into this file (default bench-results/split-mnist.json at the repo root)
  --evaluate-on S    test (default) or validation (for choosing the default recipe)
  --cells PATH       every finished (scenario, method, seed) cell, appended as it ends
                     (default: beside the JSON, <name>.cells.jsonl)
  --resume           reuse the cells recorded there (same recipe, seed, iterations and split)
                     and run only the missing ones: a long grid can span several runs
  --quick            100 iterations, 1 seed, 6000 train / 2000 test images: a pipeline check`;

function list(value: string | undefined, fallback: readonly string[]): string[] {
  return value === undefined
    ? [...fallback]
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
}

function positiveInt(field: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new PeerConfigError(field, 'an integer >= 1', value);
  return n;
}

/**
 * Parses the runner's flags. Relative `--json` paths are taken from the directory npm was started in
 * (`INIT_CWD`), so `npm run bench:continual -- --json x.json` at the root writes ./x.json there.
 */
export function parseCli(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  repoRoot: string,
): CliOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      iterations: { type: 'string' },
      seeds: { type: 'string' },
      methods: { type: 'string' },
      scenarios: { type: 'string' },
      json: { type: 'string' },
      'evaluate-on': { type: 'string' },
      cells: { type: 'string' },
      resume: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  const seedsText = values.seeds ?? (quick ? '1' : '5');
  const seeds = seedsText.includes(',')
    ? list(seedsText, []).map((s) => Number(s))
    : Array.from({ length: positiveInt('seeds', seedsText) }, (_, i) => i);
  if (seeds.some((s) => !Number.isInteger(s))) throw new PeerConfigError('seeds', 'integers', seedsText);
  const scenarios = list(values.scenarios, SCENARIOS) as Scenario[];
  for (const s of scenarios) {
    if (!SCENARIOS.includes(s))
      throw new PeerConfigError('scenarios', `a list of ${SCENARIOS.join(', ')}`, s);
  }
  const methods = list(values.methods, PROTOCOL_METHODS);
  for (const m of methods) {
    if (!METHOD_IDS.includes(m)) throw new PeerConfigError('methods', `one of ${METHOD_IDS.join(', ')}`, m);
  }
  const evaluateOn = values['evaluate-on'] ?? 'test';
  if (evaluateOn !== 'test' && evaluateOn !== 'validation')
    throw new PeerConfigError('evaluate-on', "'test' or 'validation'", evaluateOn);
  const base = env.INIT_CWD ?? process.cwd();
  const jsonArg = values.json ?? resolve(repoRoot, 'bench-results', 'split-mnist.json');
  const json = isAbsolute(jsonArg) ? jsonArg : resolve(base, jsonArg);
  const cells = values.cells ?? `${json.replace(/\.json$/, '')}.cells.jsonl`;
  return {
    json,
    cells: isAbsolute(cells) ? cells : resolve(base, cells),
    resume: values.resume ?? false,
    bench: {
      scenarios,
      methods,
      seeds,
      iterations: positiveInt('iterations', values.iterations ?? (quick ? '100' : '2000')),
      batchSize: 128,
      learningRate: 1e-3,
      evaluateOn,
      validationFraction: 0.1,
      ...(quick ? { trainLimit: 6000, testLimit: 2000 } : {}),
    },
  };
}

export { HELP };
