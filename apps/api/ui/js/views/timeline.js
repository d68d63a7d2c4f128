import { h, num, replace, short, table, when } from '../dom.js';
import { timelineLanes } from '../lineage.js';
import { NEUTRAL, plotLibrary, streamColours } from '../plot.js';

/**
 * The version timeline: commits as dots on lanes (a new lane where a version branches off an older one,
 * e.g. after a rollback), parent links, alias badges, a table of versions (click to inspect one) and the
 * log of alias moves.
 * @param {HTMLElement} container
 * @param {{ versions: any[], aliases: any[], moves: any[], selectedId: string | undefined,
 *   onSelect: (versionId: string) => void }} props
 */
export function renderTimeline(container, props) {
  const { versions, aliases, moves, selectedId, onSelect } = props;
  if (versions.length === 0) {
    replace(container, h('p', { class: 'empty' }, 'No versions yet.'));
    return;
  }
  const seqOf = new Map(versions.map((v) => [v.id, v.seq]));
  const aliasNames = new Map();
  for (const a of aliases) aliasNames.set(a.versionId, [...(aliasNames.get(a.versionId) ?? []), a.name]);
  const streamOf = (v) => v.metrics?.stream ?? (v.parentId ? '(other)' : '(initial)');
  const rows = versions.map((v) =>
    h(
      'tr',
      {
        class: v.id === selectedId ? 'selected' : '',
        dataset: { versionId: v.id, seq: String(v.seq) },
        onclick: () => onSelect(v.id),
      },
      h('td', {}, h('button', { type: 'button', class: 'link' }, `v${v.seq}`)),
      h('td', {}, v.parentId ? `v${seqOf.get(v.parentId) ?? '?'}` : '–'),
      h('td', {}, when(v.createdAt)),
      h('td', {}, streamOf(v)),
      h('td', {}, ...(aliasNames.get(v.id) ?? []).map((name) => h('span', { class: 'badge' }, name))),
      h('td', { class: 'num' }, expertsOf(v)),
      h('td', { class: 'num' }, num(v.metrics?.finalLoss)),
      h('td', {}, v.message ?? ''),
      h('td', {}, short(v.contentHash)),
    ),
  );
  const versionTable = h(
    'table',
    { id: 'version-table', class: 'clickable' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['version', 'parent', 'created', 'stream', 'aliases', 'experts', 'loss', 'message', 'content'].map(
          (t) => h('th', {}, t),
        ),
      ),
    ),
    h('tbody', {}, ...rows),
  );
  const history =
    moves.length === 0
      ? h('p', { class: 'empty' }, 'No alias has been set.')
      : table(
          ['alias', 'when', 'from', 'to', 'by', 'reason'],
          moves.map((m) => [
            h('span', { class: 'badge' }, m.name),
            when(m.at),
            m.fromVersionId ? `v${seqOf.get(m.fromVersionId) ?? '?'}` : 'created',
            m.toVersionId ? `v${seqOf.get(m.toVersionId) ?? '?'}` : '–',
            m.actor ?? '',
            m.reason ?? '',
          ]),
          { id: 'alias-history' },
        );
  replace(
    container,
    timelineChart(versions, aliasNames, streamOf, selectedId, onSelect),
    versionTable,
    h('h4', {}, 'Alias moves'),
    history,
  );
}

function expertsOf(v) {
  const experts = v.metrics?.experts;
  return Array.isArray(experts) ? experts.join(' / ') : '–';
}

function timelineChart(versions, aliasNames, streamOf, selectedId, onSelect) {
  const Plot = plotLibrary();
  const placed = timelineLanes(versions).map(({ version, lane, parent }) => ({
    version,
    lane,
    parent,
    seq: version.seq,
    stream: streamOf(version),
    aliases: (aliasNames.get(version.id) ?? []).join(', '),
  }));
  const laneOf = new Map(placed.map((p) => [p.version.id, p.lane]));
  const links = placed
    .filter((p) => p.parent)
    .map((p) => ({ x1: p.parent.seq, y1: laneOf.get(p.parent.id) ?? 0, x2: p.seq, y2: p.lane }));
  const colours = streamColours(versions);
  for (const p of placed) if (!colours.has(p.stream)) colours.set(p.stream, NEUTRAL);
  const lanes = Math.max(...placed.map((p) => p.lane)) + 1;
  const maxSeq = Math.max(...placed.map((p) => p.seq));
  const chart = Plot.plot({
    height: 50 + lanes * 50,
    marginLeft: 30,
    marginRight: 40,
    x: { label: 'version', domain: [0.5, maxSeq + 0.5], ticks: [], axis: null },
    y: { domain: [-0.6, lanes - 0.4], axis: null, reverse: true },
    color: { domain: [...colours.keys()], range: [...colours.values()], legend: true },
    marks: [
      Plot.link(links, { x1: 'x1', y1: 'y1', x2: 'x2', y2: 'y2', stroke: '#8c959f', strokeWidth: 2 }),
      // The selected version gets a ring (r is a constant: an r channel would go through a sqrt scale).
      Plot.dot(
        placed.filter((p) => p.version.id === selectedId),
        { x: 'seq', y: 'lane', r: 11, fill: 'none', stroke: '#1b1f24', strokeWidth: 2 },
      ),
      Plot.dot(placed, {
        x: 'seq',
        y: 'lane',
        r: 7,
        fill: 'stream',
        stroke: 'white',
        strokeWidth: 1.5,
        title: (p) => `v${p.seq} · ${p.stream}\n${p.version.message ?? ''}\n${p.version.createdAt ?? ''}`,
      }),
      Plot.text(placed, { x: 'seq', y: 'lane', text: (p) => `v${p.seq}`, dy: -18, fontWeight: 600 }),
      Plot.text(
        placed.filter((p) => p.aliases),
        { x: 'seq', y: 'lane', text: 'aliases', dy: 20, fill: '#8250df', fontWeight: 600 },
      ),
      // Pointing near a dot makes it the chart's value; a click then selects that version.
      Plot.dot(
        placed,
        Plot.pointer({ x: 'seq', y: 'lane', r: 11, stroke: '#0969da', strokeWidth: 2, maxRadius: 30 }),
      ),
    ],
  });
  chart.style.cursor = 'pointer';
  chart.addEventListener('click', () => {
    if (chart.value?.version) onSelect(chart.value.version.id);
  });
  return chart;
}
