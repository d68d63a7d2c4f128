import { h, num } from '../dom.js';

/**
 * Why one input got its output, as the API's `explain` says: every expert retrieved per head of every PEER
 * layer (id, position in the sub-key grid, gate), then the adapters mixed in with their retrieval scores
 * and weights. Rows carry `data-expert-id`, `data-layer`, `data-head` for tests and tooling.
 * @param {{ layers?: any[], adapters?: any[] }} explain
 */
export function explainView(explain) {
  const rows = [];
  for (const layer of explain.layers ?? []) {
    (layer.heads ?? []).forEach((head, headIndex) => {
      for (const e of head.experts ?? []) {
        rows.push(
          h(
            'tr',
            {
              class: 'expert',
              dataset: { layer: layer.layer, head: String(headIndex), expertId: String(e.id) },
            },
            h('td', {}, layer.layer),
            h('td', { class: 'num' }, String(headIndex)),
            h('td', { class: 'num expert-id' }, String(e.id)),
            h('td', { class: 'num' }, `(${e.row}, ${e.col})`),
            h('td', { class: 'num' }, num(e.gate, 4)),
          ),
        );
      }
    });
  }
  const experts = h(
    'table',
    { class: 'experts' },
    h(
      'thead',
      {},
      h('tr', {}, ...['layer', 'head', 'expert', 'grid (row, col)', 'gate'].map((t) => h('th', {}, t))),
    ),
    h('tbody', {}, ...rows),
  );
  const adapters = explain.adapters ?? [];
  return h(
    'div',
    { class: 'explain' },
    h('h5', {}, 'Experts that fired'),
    experts,
    h('h5', {}, 'Adapters'),
    adapters.length === 0
      ? h('p', { class: 'empty' }, 'none')
      : h(
          'table',
          { class: 'adapters' },
          h(
            'thead',
            {},
            h('tr', {}, ...['adapter', 'version', 'score', 'weight'].map((t) => h('th', {}, t))),
          ),
          h(
            'tbody',
            {},
            ...adapters.map((a) =>
              h(
                'tr',
                { class: 'adapter', dataset: { adapter: a.name } },
                h('td', {}, a.name),
                h('td', {}, String(a.version ?? '')),
                h('td', { class: 'num' }, num(a.score, 4)),
                h('td', { class: 'num' }, num(a.weight, 4)),
              ),
            ),
          ),
        ),
  );
}
