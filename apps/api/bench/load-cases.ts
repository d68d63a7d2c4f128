import type { AutocannonOptions, AutocannonResult } from 'autocannon';
import { type PacedResult, quantile } from './paced-load.js';

/** One row of the load table / JSON: what was driven and what came back. */
export interface LoadRow {
  readonly case: string;
  /** autocannon (closed loop; `overallRate` = a per-connection quota per second), paced (open loop), sequential. */
  readonly generator: 'autocannon' | 'paced' | 'sequential';
  readonly n_experts: number;
  readonly target_rps: number | 'max';
  /** Connections (autocannon); open keep-alive connections as needed (paced: 0); 1 (sequential). */
  readonly connections: number;
  readonly duration_s: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Records per second (ingest only). */
  readonly records_per_s?: number;
}

/** Runs autocannon (imported lazily so `tsc` and the rest of the bench do not need it installed). */
export async function cannon(options: AutocannonOptions): Promise<AutocannonResult> {
  const { default: autocannon } = await import('autocannon');
  return autocannon(options);
}

/** Summarises a run into a row. */
export function toRow(
  name: string,
  nExperts: number,
  target: number | 'max',
  options: { connections: number; duration: number },
  result: AutocannonResult,
  recordsPerRequest?: number,
): LoadRow {
  const ok = result['2xx'];
  const rps = ok / result.duration;
  return {
    case: name,
    generator: 'autocannon',
    n_experts: nExperts,
    target_rps: target,
    connections: options.connections,
    duration_s: Number(result.duration.toFixed(1)),
    requests: result.requests.total,
    rps: Number(rps.toFixed(1)),
    p50_ms: result.latency.p50,
    p90_ms: result.latency.p90,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ...(recordsPerRequest ? { records_per_s: Math.round(rps * recordsPerRequest) } : {}),
  };
}

/** A markdown table of rows (what the bench prints and `docs/benchmarks.md` quotes). */
export function table(rows: readonly LoadRow[]): string {
  const head =
    '| case | generator | N | target req/s | conns | req/s | p50 ms | p90 ms | p99 ms | max ms | non-2xx | errors |';
  const rule = '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const lines = rows.map((r) =>
    [
      r.case + (r.records_per_s ? ` (${r.records_per_s.toLocaleString('en-US')} records/s)` : ''),
      r.generator,
      `${Math.round(Math.sqrt(r.n_experts))}²`,
      r.target_rps,
      r.generator === 'paced' ? 'open' : r.connections,
      r.rps.toLocaleString('en-US'),
      r.p50_ms,
      r.p90_ms,
      r.p99_ms,
      r.max_ms,
      r.non2xx,
      r.errors,
    ].join(' | '),
  );
  return [head, rule, ...lines.map((l) => `| ${l} |`)].join('\n');
}

/** A row of an open-loop run at an even rate. */
export function pacedRow(name: string, nExperts: number, rate: number, r: PacedResult): LoadRow {
  return {
    case: name,
    generator: 'paced',
    n_experts: nExperts,
    target_rps: rate,
    connections: 0,
    duration_s: Number(r.durationS.toFixed(1)),
    requests: r.sent,
    rps: Number((r.ok / r.durationS).toFixed(1)),
    p50_ms: r.p50,
    p90_ms: r.p90,
    p99_ms: r.p99,
    max_ms: r.max,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}

/** A row of requests sent one at a time (`latencies` in ms). */
export function sequentialRow(name: string, nExperts: number, latencies: readonly number[]): LoadRow {
  const sorted = [...latencies].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    case: name,
    generator: 'sequential',
    n_experts: nExperts,
    target_rps: 'max',
    connections: 1,
    duration_s: round(total / 1000),
    requests: sorted.length,
    rps: Number(((sorted.length * 1000) / total).toFixed(1)),
    p50_ms: round(quantile(sorted, 0.5)),
    p90_ms: round(quantile(sorted, 0.9)),
    p99_ms: round(quantile(sorted, 0.99)),
    max_ms: round(sorted.at(-1) ?? Number.NaN),
    non2xx: 0,
    errors: 0,
  };
}
