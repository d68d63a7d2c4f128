import type { Scenario } from '../../src/continual/scenario.js';
import { PUBLISHED_ONLY, publishedFor, TARGETS } from './published.js';
import { type BenchRow, SCENARIOS } from './results.js';

const label: Record<Scenario, string> = { task: 'Task-IL', domain: 'Domain-IL', class: 'Class-IL' };

function cell(row: BenchRow | undefined): string {
  if (!row) return '';
  const sd = row.acc_sd === null ? '' : ` ± ${row.acc_sd.toFixed(2)}`;
  const prototypes =
    row.prototypes_per_class === undefined ? '' : ` (+${row.prototypes_per_class} prototypes)`;
  return `${row.acc_mean.toFixed(2)}${sd}${prototypes}`;
}

/**
 * The results as a markdown table: per method (and replay budget) and scenario our final average accuracy
 * (mean ± sd over seeds) beside the published number (DESIGN §7), then BWT / forgetting, the published-only
 * methods and the targets.
 */
export function markdownTable(rows: readonly BenchRow[]): string {
  const methods: { method: string; replay: number }[] = [];
  for (const r of rows) {
    if (!methods.some((m) => m.method === r.method && m.replay === r.replay_per_class))
      methods.push({ method: r.method, replay: r.replay_per_class });
  }
  const find = (m: { method: string; replay: number }, s: Scenario) =>
    rows.find((r) => r.method === m.method && r.replay_per_class === m.replay && r.scenario === s);
  const head = SCENARIOS.map((s) => `${label[s]} ours | ${label[s]} published`).join(' | ');
  const lines = [
    `| method | stored/class | ${head} |`,
    `|---|---:|${SCENARIOS.map(() => '---:|---:').join('|')}|`,
  ];
  for (const m of methods) {
    const pub = publishedFor(m.method, m.replay);
    const cells = SCENARIOS.map((s) => `${cell(find(m, s))} | ${pub?.values[s] ?? ''}`).join(' | ');
    lines.push(`| ${m.method} | ${m.replay} | ${cells} |`);
  }
  for (const p of PUBLISHED_ONLY) {
    lines.push(
      `| ${p.label} (published only) | | ${SCENARIOS.map((s) => ` | ${p.values[s]}`).join(' | ')} |`,
    );
  }
  lines.push(`| **target** | | ${SCENARIOS.map((s) => ` | ${TARGETS[s]}`).join(' | ')} |`);
  const bwt = [
    '',
    `| method | stored/class | ${SCENARIOS.map((s) => `${label[s]} BWT / forgetting`).join(' | ')} |`,
    `|---|---:|${SCENARIOS.map(() => '---:').join('|')}|`,
  ];
  for (const m of methods) {
    const cells = SCENARIOS.map((s) => {
      const r = find(m, s);
      if (!r) return '';
      return r.bwt === null ? '–' : `${r.bwt.toFixed(2)} / ${(r.forgetting ?? Number.NaN).toFixed(2)}`;
    });
    bwt.push(`| ${m.method} | ${m.replay} | ${cells.join(' | ')} |`);
  }
  const routing = routingTable(methods, find);
  const runs = [...new Set(rows.map((r) => `${r.iterations} iterations/task × ${r.seeds} seed(s)`))];
  return [
    ...lines,
    ...bwt,
    ...routing,
    '',
    `Runs: ${runs.join('; ')}. Accuracies in %, BWT and forgetting in points.`,
    '',
  ].join('\n');
}

/** PEER rows only: routing change, usage (%) and unevenness (nats) per scenario; empty without PEER rows. */
function routingTable(
  methods: readonly { method: string; replay: number }[],
  find: (m: { method: string; replay: number }, s: Scenario) => BenchRow | undefined,
): string[] {
  const peer = methods.filter((m) => SCENARIOS.some((s) => find(m, s)?.routing_change !== undefined));
  if (peer.length === 0) return [];
  const lines = [
    '',
    `| method (PEER) | stored/class | ${SCENARIOS.map((s) => `${label[s]} routing change % / usage % / unevenness`).join(' | ')} |`,
    `|---|---:|${SCENARIOS.map(() => '---:').join('|')}|`,
  ];
  for (const m of peer) {
    const cells = SCENARIOS.map((s) => {
      const r = find(m, s);
      if (r?.routing_change === undefined) return '';
      return `${r.routing_change.toFixed(2)} / ${(r.usage ?? Number.NaN).toFixed(1)} / ${(r.unevenness ?? Number.NaN).toFixed(2)}`;
    });
    lines.push(`| ${m.method} | ${m.replay} | ${cells.join(' | ')} |`);
  }
  return lines;
}
