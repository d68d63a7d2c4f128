/**
 * Char-LM comparison of the PEER paper (He 2024 Table 1) at our scale (issue #4 item 5): the middle block's
 * FFN is dense, MoE, PKM, FFF or PEER, every model trained on Moby-Dick for the same training FLOPs.
 *   npm run bench:lm -w @peer/core -- [--budget 4e11] [--seed 0] [--batch 32] [--lr 3e-3]
 *     [--cases dense,peer-128] [--eval-windows N] [--json FILE]
 * Progress goes to stderr; the table to stdout; one JSON row per case to --json (rewritten after each case).
 * Before evaluation, query batch-norm statistics are re-estimated on 64 training windows (PreciseBN); the
 * bpc with the training-time running averages is reported too (`val_bpc_running_bn`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../../src/backend/index.js';
import { allCases } from './cases.js';
import { mobyDickText, splitTail } from './moby-dick.js';
import { formatTable } from './report.js';
import { type LmRow, runCase } from './run-case.js';

const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '4e11' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '3e-3' },
    seed: { type: 'string', default: '0' },
    cases: { type: 'string' },
    'eval-windows': { type: 'string' },
    'validation-fraction': { type: 'string', default: '0.05' },
    json: {
      type: 'string',
      default: fileURLToPath(new URL('../../../../bench-results/char-lm.json', import.meta.url)),
    },
  },
});

// npm runs workspace scripts inside the package: a relative --json is taken from where npm was invoked
// (INIT_CWD), so `npm run bench:lm -- --json bench-results/x.json` at the root writes the root's file.
const jsonPath = resolve(process.env.INIT_CWD ?? process.cwd(), values.json);
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const info = await initBackend();
const wanted = values.cases?.split(',').filter(Boolean);
const cases = wanted ? allCases.filter((c) => wanted.includes(c.name)) : allCases;
const data = splitTail(mobyDickText(), Number(values['validation-fraction']));
const settings = {
  budgetFlops: Number(values.budget),
  batchSize: Number(values.batch),
  learningRate: Number(values.lr),
  seed: Number(values.seed),
  progressEvery: 50,
  calibrationWindows: 64,
  log,
  ...(values['eval-windows'] ? { evalWindows: Number(values['eval-windows']) } : {}),
};
log(
  `[char-lm] backend ${info.name}; Moby-Dick: ${data.train.length} train / ${data.validation.length} validation chars, vocab ${data.vocab.size}`,
);
log(
  `[char-lm] budget ${settings.budgetFlops.toExponential(2)} training FLOPs per case, batch ${settings.batchSize} x context 64, Adam lr ${settings.learningRate}, seed ${settings.seed}; cases: ${cases.map((c) => c.name).join(', ')}`,
);
const rows: LmRow[] = [];
for (const c of cases) {
  rows.push(await runCase(c, data, settings));
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(rows, null, 2)}\n`);
}
console.log(formatTable(rows));
log(`[char-lm] wrote ${jsonPath}`);
