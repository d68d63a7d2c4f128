import { h, replace } from '../dom.js';

/**
 * The tenant's models as a list of buttons; the selected one is highlighted.
 * @param {HTMLElement} container
 * @param {{ models: any[], selectedId: string | undefined, onSelect: (id: string) => void }} props
 */
export function renderModels(container, props) {
  if (props.models.length === 0) {
    replace(container, h('p', { class: 'empty' }, 'No models for this key’s tenant.'));
    return;
  }
  replace(
    container,
    h(
      'ul',
      { id: 'model-list' },
      ...props.models.map((m) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: m.id === props.selectedId ? 'model selected' : 'model',
              dataset: { modelId: m.id },
              onclick: () => props.onSelect(m.id),
            },
            h('span', { class: 'name' }, m.name),
            h(
              'span',
              { class: 'meta' },
              `${m.versionCount} version${m.versionCount === 1 ? '' : 's'} · ${m.kind}`,
            ),
          ),
        ),
      ),
    ),
  );
}
