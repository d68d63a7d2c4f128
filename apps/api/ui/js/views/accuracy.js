import { h, num, replace } from '../dom.js';
import { accuracyMatrix } from '../lineage.js';
import { plotLibrary } from '../plot.js';

/**
 * The accuracy matrix R[i][j] of a version: held-out accuracy on stream j (columns) after the i-th
 * training version of its lineage (rows), with the summary metrics the trainer computed from it. Reading
 * down a column shows forgetting; the diagonal is how well each stream was learnt when it arrived.
 * @param {HTMLElement} container
 * @param {any[]} chain lineage of the selected version, oldest first
 */
export function renderAccuracy(container, chain) {
  const version = chain.at(-1);
  const matrix = accuracyMatrix(chain);
  if (!version || !matrix || matrix.cells.length === 0) {
    replace(
      container,
      h(
        'p',
        { class: 'empty' },
        version ? `v${version.seq} has no accuracy metrics (not trained by a job).` : '',
      ),
    );
    return;
  }
  const stats = h(
    'dl',
    { class: 'stats', id: 'accuracy-stats' },
    h('dt', { title: 'Average accuracy over all streams after the last version' }, 'ACC'),
    h('dd', {}, num(matrix.acc)),
    h('dt', { title: 'Backward transfer: mean change on earlier streams since they were learnt' }, 'BWT'),
    h('dd', {}, num(matrix.bwt)),
    h(
      'dt',
      { title: 'Forgetting: mean drop from the best accuracy ever reached on each earlier stream' },
      'Forgetting',
    ),
    h('dd', {}, num(matrix.forgetting)),
  );
  const Plot = plotLibrary();
  const chart = Plot.plot({
    marginLeft: 120,
    marginBottom: 40,
    height: 50 + 40 * matrix.labels.length,
    width: Math.max(260, 140 + 90 * matrix.streams.length),
    x: { domain: matrix.streams, label: 'evaluated on stream', axis: 'top' },
    y: { domain: matrix.labels, label: 'after version' },
    color: { type: 'linear', domain: [0, 1], scheme: 'blues', legend: true, label: 'accuracy' },
    marks: [
      Plot.cell(matrix.cells, {
        x: 'stream',
        y: 'row',
        fill: 'value',
        inset: 1,
        title: (d) => `${d.row} on ${d.stream}: ${(d.value * 100).toFixed(1)}%`,
      }),
      // Two text marks with constant colours: a colour channel would go through the accuracy scale.
      ...[
        [(d) => d.value > 0.6, 'white'],
        [(d) => d.value <= 0.6, 'black'],
      ].map(([keep, fill]) =>
        Plot.text(matrix.cells.filter(keep), {
          x: 'stream',
          y: 'row',
          text: (d) => (d.value * 100).toFixed(1),
          fill,
        }),
      ),
    ],
  });
  chart.dataset.cells = String(matrix.cells.length);
  replace(container, stats, h('div', { id: 'accuracy-chart', class: 'chart' }, chart));
}
