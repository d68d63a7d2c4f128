import { h, num, replace } from '../dom.js';
import { rowBands, usageGrid } from '../lineage.js';
import { plotLibrary, streamColours } from '../plot.js';

/**
 * Expert usage of a version over the product-key grid (sub-key rows × columns, expert id = row·cols + col):
 * gate mass per expert on held-out data, on a log colour scale so rarely used experts stay visible;
 * experts never used are left blank. The rows each stream added along the lineage are outlined, and the
 * experts of the last prediction (if any) are circled.
 * @param {HTMLElement} container
 * @param {{ chain: any[], versions: any[], usage: Record<string, any> | undefined, layer: string | undefined, onLayer: (layer: string) => void,
 *   highlight?: Array<{ layer: string, row: number, col: number, id: number, gate: number }> }} props
 */
export function renderUsage(container, props) {
  const version = props.chain.at(-1);
  const usage = props.usage ?? {};
  const layers = Object.keys(usage).sort();
  if (!version || layers.length === 0) {
    replace(container, h('p', { class: 'empty' }, version ? `v${version.seq} has no usage metrics.` : ''));
    return;
  }
  const layer = props.layer && layers.includes(props.layer) ? props.layer : layers[0];
  const grid = usageGrid(usage[layer]);
  const picker = h(
    'select',
    { id: 'usage-layer', onchange: (e) => props.onLayer(e.target.value) },
    ...layers.map((name) => h('option', { value: name, selected: name === layer }, name)),
  );
  if (!grid || grid.used === 0) {
    replace(container, h('label', {}, 'Layer ', picker), h('p', { class: 'empty' }, 'No usage recorded.'));
    return;
  }
  const bands = rowBands(props.chain, layer);
  const readout = h('div', { class: 'readout', id: 'usage-readout' }, 'Point at the grid to read an expert.');
  const chart = usageChart(
    grid,
    bands,
    (props.highlight ?? []).filter((e) => e.layer === layer),
    streamColours(props.versions),
  );
  chart.dataset.versionId = version.id;
  chart.dataset.layer = layer;
  chart.dataset.rows = String(grid.rows);
  chart.dataset.used = String(grid.used);
  attachReadout(chart, grid, readout);
  const summary = h(
    'p',
    { class: 'summary' },
    `${grid.rows} × ${grid.cols} = ${grid.rows * grid.cols} experts, ${grid.used} of ${grid.gridRows * grid.gridCols} `,
    grid.binned ? `bins (${grid.gridRows} × ${grid.gridCols}) used` : 'used',
    ` (${num((100 * grid.used) / (grid.gridRows * grid.gridCols), 1)}%).`,
  );
  replace(
    container,
    h('label', {}, 'Layer ', picker),
    summary,
    h('div', { id: 'usage-chart', class: 'chart' }, chart),
    readout,
  );
}

function usageChart(grid, bands, fired, colours) {
  const Plot = plotLibrary();
  const cell = Math.max(2, Math.min(24, Math.floor(560 / Math.max(grid.gridCols, grid.gridRows))));
  const width = 60 + 110 + cell * grid.gridCols;
  const height = 40 + 30 + cell * grid.gridRows;
  // Log scale: an unused expert (0) has no logarithm; NaN leaves its pixel blank over the grey frame.
  const values = grid.counts.map((c) => (c > 0 ? c : Number.NaN));
  return Plot.plot({
    width,
    height,
    marginLeft: 60,
    marginRight: 110,
    marginTop: 30,
    x: { domain: [0, grid.cols], label: 'sub-key column', axis: 'top' },
    y: { domain: [0, grid.rows], label: 'sub-key row', reverse: true },
    color: { type: 'log', scheme: 'viridis', legend: true, label: 'gate mass (log)' },
    marks: [
      Plot.frame({ fill: '#eaeef2' }),
      Plot.raster(values, {
        width: grid.gridCols,
        height: grid.gridRows,
        x1: 0,
        x2: grid.gridCols * grid.colsPerCell, // the last bin may reach past the grid's edge
        y1: 0,
        y2: grid.gridRows * grid.rowsPerCell,
        imageRendering: 'pixelated',
        className: 'usage-raster',
      }),
      ...bands.flatMap((band) => [
        Plot.rect([band], {
          x1: 0,
          x2: grid.cols,
          y1: 'from',
          y2: 'to',
          fill: 'none',
          stroke: colours.get(band.stream),
          strokeWidth: 2,
        }),
        Plot.text([band], {
          x: grid.cols,
          y: (b) => (b.from + b.to) / 2,
          text: (b) => `${b.stream} (v${b.seq})\nrows ${b.from}–${b.to - 1}`,
          textAnchor: 'start',
          dx: 6,
          fill: colours.get(band.stream),
          fontWeight: 600,
        }),
      ]),
      Plot.dot(fired, {
        className: 'fired-experts',
        x: (e) => e.col + 0.5,
        y: (e) => e.row + 0.5,
        r: Math.max(3, cell / 2),
        stroke: '#d1242f',
        strokeWidth: 2,
        title: (e) => `expert ${e.id} (row ${e.row}, col ${e.col}) gate ${num(e.gate)}`,
      }),
    ],
  });
}

/** Shows the expert under the pointer: id, grid position and usage, read back through Plot's scales. */
function attachReadout(chart, grid, readout) {
  const svg = chart.tagName.toLowerCase() === 'svg' ? chart : chart.querySelector('svg:not(.plot-ramp)');
  const x = chart.scale('x');
  const y = chart.scale('y');
  if (!svg || !x?.invert || !y?.invert) return;
  svg.addEventListener('pointermove', (event) => {
    const box = svg.getBoundingClientRect();
    const scale = svg.viewBox.baseVal?.width ? svg.viewBox.baseVal.width / box.width : 1;
    const col = Math.floor(x.invert((event.clientX - box.left) * scale));
    const row = Math.floor(y.invert((event.clientY - box.top) * scale));
    if (row < 0 || col < 0 || row >= grid.rows || col >= grid.cols) return;
    const binRow = Math.floor(row / grid.rowsPerCell);
    const binCol = Math.floor(col / grid.colsPerCell);
    const count = grid.counts[binRow * grid.gridCols + binCol] ?? 0;
    readout.textContent = `expert ${row * grid.cols + col} · row ${row}, col ${col} · ${
      grid.binned ? 'bin ' : ''
    }gate mass ${num(count, 4)}`;
  });
}
