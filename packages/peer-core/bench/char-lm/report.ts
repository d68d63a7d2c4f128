import type { LmRow } from './run-case.js';

/** The results as a fixed-width table (what the bench prints and docs/benchmarks.md quotes). */
export function formatTable(rows: readonly LmRow[]): string {
  const head =
    'case            ffn     n_experts   params  MFLOP/tok  train_TFLOP  steps  val_bpc  usage_%  unevenness  wall_s';
  const lines = rows.map((r) =>
    [
      r.case.padEnd(15),
      r.ffn.padEnd(5),
      String(r.n_experts).padStart(11),
      String(r.params).padStart(8),
      (r.flops_per_token / 1e6).toFixed(3).padStart(10),
      (r.train_flops / 1e12).toFixed(3).padStart(12),
      String(r.steps).padStart(6),
      r.val_bpc.toFixed(4).padStart(8),
      (r.usage === null ? '-' : (r.usage * 100).toFixed(1)).padStart(8),
      (r.unevenness === null ? '-' : r.unevenness.toFixed(3)).padStart(11),
      r.wall_s.toFixed(0).padStart(7),
    ].join(' '),
  );
  return [head, ...lines].join('\n');
}

/** Problems with a row's metrics (empty when well-formed): finite positive bpc and FLOPs, usage in [0, 1]. */
export function rowProblems(r: LmRow): string[] {
  const problems: string[] = [];
  if (!(Number.isFinite(r.val_bpc) && r.val_bpc > 0)) problems.push(`val_bpc ${r.val_bpc}`);
  if (r.val_bpc_running_bn !== null && !(Number.isFinite(r.val_bpc_running_bn) && r.val_bpc_running_bn > 0)) {
    problems.push(`val_bpc_running_bn ${r.val_bpc_running_bn}`);
  }
  if (!(Number.isFinite(r.train_flops) && r.train_flops > 0)) problems.push(`train_flops ${r.train_flops}`);
  if (!(Number.isInteger(r.n_experts) && r.n_experts >= 1)) problems.push(`n_experts ${r.n_experts}`);
  const routed = r.ffn !== 'dense';
  if (routed && (r.usage === null || !(r.usage > 0 && r.usage <= 1))) problems.push(`usage ${r.usage}`);
  if (routed && (r.unevenness === null || !(r.unevenness >= 0 && Number.isFinite(r.unevenness)))) {
    problems.push(`unevenness ${r.unevenness}`);
  }
  if (!routed && (r.usage !== null || r.unevenness !== null)) problems.push('dense row with usage');
  return problems;
}
