/**
 * PEER layer benchmark (issue #2): d_model 256, h 8, k 16, d_key 128, N = size^2, against a dense FFN.
 *   npm run bench -w @peer/core -- --json FILE [--sizes 128,256,512,1024] [--runs 15]
 * Each size runs in its own child process so `peak_rss_mb` is that configuration's own peak.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchRow, runDenseCase, runPeerCases } from './peer-layer-cases.js';

const { values } = parseArgs({
  options: {
    json: { type: 'string' },
    sizes: { type: 'string', default: '128,256,512,1024' },
    runs: { type: 'string', default: '15' },
    child: { type: 'string' },
  },
});

const runs = Number(values.runs);

if (values.child !== undefined) {
  const rows =
    values.child === 'dense' ? await runDenseCase(runs) : await runPeerCases(Number(values.child), runs);
  process.stdout.write(`${JSON.stringify(rows)}\n`);
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const rows: BenchRow[] = [];
for (const target of ['dense', ...(values.sizes ?? '').split(',').filter(Boolean)]) {
  process.stderr.write(
    `[bench] ${target === 'dense' ? 'dense FFN 256-1024-256' : `PEER N = ${target}^2`} ...\n`,
  );
  const child = spawnSync(tsx, [self, '--child', target, '--runs', String(runs)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  if (child.status !== 0) throw new Error(`bench child ${target} failed with status ${child.status}`);
  const last = child.stdout.trim().split('\n').at(-1) ?? '[]';
  rows.push(...(JSON.parse(last) as BenchRow[]));
}

console.log(
  `backend ${rows[0]?.backend ?? '?'} (${rows[0]?.threads ?? '?'}); kernels ${rows[0]?.kernels ?? '?'}; d_model 256, h 8, k 16, d_key 128`,
);
console.log('case               n_experts   tokens   median_ms   tokens_per_s   peak_rss_mb');
for (const r of rows) {
  console.log(
    `${r.case.padEnd(18)} ${String(r.n_experts).padStart(9)} ${String(r.tokens).padStart(8)} ${r.median_ms
      .toFixed(2)
      .padStart(
        11,
      )} ${Math.round(r.tokens_per_s).toString().padStart(14)} ${r.peak_rss_mb.toFixed(0).padStart(13)}`,
  );
}
// npm runs workspace scripts inside the package: resolve --json against where npm was invoked (INIT_CWD).
if (values.json)
  writeFileSync(
    resolve(process.env.INIT_CWD ?? process.cwd(), values.json),
    `${JSON.stringify(rows, null, 2)}\n`,
  );
