/**
 * Split MNIST continual-learning benchmark (issue #4, item 4): methods × scenarios × seeds under the protocol of
 * van de Ven & Tolias 2019, rows merged into bench-results/split-mnist.json and a markdown table beside it.
 *   npm run bench:continual -- [--iterations 2000] [--seeds 5] [--methods a,b] [--scenarios task,domain,class]
 *                              [--json PATH] [--evaluate-on test|validation] [--quick]
 *                              [--cells PATH] [--resume]
 * Progress goes to stderr; the table to stdout.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../../src/backend/index.js';
import { runSplitMnistBenchmark } from './benchmark.js';
import { CellCache, currentCommit } from './cell-cache.js';
import { HELP, parseCli } from './cli.js';
import { METHODS } from './methods.js';
import { markdownTable } from './report.js';
import { mergeRows } from './results.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
// The INIT_CWD npm sets is read here, in the entry script, and passed on as a plain value.
const cli = parseCli(process.argv.slice(2), { INIT_CWD: process.env.INIT_CWD }, repoRoot);
if (cli === 'help') {
  console.log(HELP);
  process.exit(0);
}
const backend = await initBackend();
const { bench, json } = cli;
const cache = new CellCache(cli.cells, currentCommit(repoRoot));
const log = (line: string) => process.stderr.write(`${line}\n`);
log(
  `[split-mnist] backend ${backend.name} (${backend.threads} thread(s)); scenarios ${bench.scenarios.join(',')}; ` +
    `methods ${bench.methods.join(',')}; seeds ${bench.seeds.join(',')}; ${bench.iterations} iterations/task, ` +
    `batch ${bench.batchSize}, Adam lr ${bench.learningRate}; evaluated on ${bench.evaluateOn}; JSON ${json}; ` +
    `cells ${cli.cells}${cli.resume ? ' (resuming)' : ''}`,
);
const order = [...new Set([...METHODS.map((m) => m.method), 'default'])];
const markdownPath = `${json.replace(/\.json$/, '')}.md`;
let all: ReturnType<typeof mergeRows> = [];
await runSplitMnistBenchmark(bench, {
  log,
  cells: { cache, resume: cli.resume },
  onRow: (row, cells) => {
    // Written after every row, so an interrupted run keeps what it finished.
    all = mergeRows(json, [row], order);
    writeFileSync(markdownPath, markdownTable(all));
    const matrices = cells.map((c) =>
      c.accuracy.map((r) => r.map((a) => (100 * a).toFixed(1)).join(' ')).join(' | '),
    );
    log(`[split-mnist] row ${JSON.stringify(row)}`);
    for (const [i, m] of matrices.entries()) log(`[split-mnist]   R (seed ${cells[i]?.seed}): ${m}`);
  },
});
console.log(markdownTable(all));
