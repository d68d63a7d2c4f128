import type { ManifestEntry, VersionDiff } from '../types.js';

const ROW_RANGE_RE = /^(.*)\.rows\.(\d+)-(\d+)$/;

/**
 * Parses a row-sliced block name, `<table>.rows.<start>-<end>` (end exclusive), e.g.
 * `peer0.experts.u.rows.000064-000128` → `{ table: 'peer0.experts.u', start: 64, end: 128 }`.
 */
export function parseRowRange(name: string): { table: string; start: number; end: number } | undefined {
  const m = ROW_RANGE_RE.exec(name);
  if (!m?.[1] || m[2] === undefined || m[3] === undefined) return undefined;
  const start = Number(m[2]);
  const end = Number(m[3]);
  return end > start ? { table: m[1], start, end } : undefined;
}

/**
 * Compares two manifests by name and content. Row ranges: a sub-key row counts as changed when the
 * block covering it differs (added, removed or different bytes) — computed per table, merged into
 * disjoint ranges, and correct even if the two versions cut the table at different boundaries.
 */
export function diffManifests(
  fromId: string,
  toId: string,
  from: readonly ManifestEntry[],
  to: readonly ManifestEntry[],
): VersionDiff {
  const a = new Map(from.map((e) => [e.name, e]));
  const b = new Map(to.map((e) => [e.name, e]));
  const added = to.filter((e) => !a.has(e.name));
  const removed = from.filter((e) => !b.has(e.name));
  const changed: Array<{ from: ManifestEntry; to: ManifestEntry }> = [];
  let unchanged = 0;
  for (const e of to) {
    const old = a.get(e.name);
    if (!old) continue;
    if (sameContent(old, e)) unchanged++;
    else changed.push({ from: old, to: e });
  }
  const ranges = new Map<string, Array<[number, number]>>();
  const mark = (e: ManifestEntry) => {
    const r = parseRowRange(e.name);
    if (!r) return;
    const list = ranges.get(r.table) ?? [];
    list.push([r.start, r.end]);
    ranges.set(r.table, list);
  };
  for (const e of [...added, ...removed]) mark(e);
  for (const c of changed) {
    mark(c.from);
    mark(c.to);
  }
  const rows = [...ranges.entries()]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([table, list]) => ({ table, ranges: mergeRanges(list) }));
  return { fromId, toId, added, removed, changed, unchanged, rows };
}

function sameContent(x: ManifestEntry, y: ManifestEntry): boolean {
  return x.hash === y.hash && x.dtype === y.dtype && x.shape.join('x') === y.shape.join('x');
}

function mergeRanges(list: Array<[number, number]>): Array<readonly [number, number]> {
  const sorted = [...list].sort((p, q) => p[0] - q[0]);
  const out: Array<[number, number]> = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}
