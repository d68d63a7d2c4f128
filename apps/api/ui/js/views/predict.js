import { call } from '../api.js';
import { h, num, replace } from '../dom.js';
import { explainView } from './explain.js';

/**
 * The predict box: send inputs to `POST /v1/models/{id}/predict` with `explain: true` and show the class,
 * the probabilities, and which experts (grid row/column, gate, per head and PEER layer) and adapters
 * fired. The version, alias and adapter choice are the API's own options.
 */
export class PredictPanel {
  /**
   * @param {HTMLElement} container
   * @param {{ onExperts: (experts: Array<{ layer: string, id: number, row: number, col: number, gate: number }>) => void,
   *   onError: (error: unknown) => void }} hooks
   */
  constructor(container, hooks) {
    this.container = container;
    this.hooks = hooks;
    this.output = h('div', { id: 'predict-output' });
  }

  /**
   * @param {{ model: any, versions: any[], aliases: any[], adapters?: any[] }} data
   * @param {string | undefined} selectedVersionId
   */
  render(data, selectedVersionId) {
    // Keep what the operator typed when only the selected version changed.
    const typed = this.model?.id === data.model.id ? this.input?.value : undefined;
    this.model = data.model;
    const inDim = data.model.config?.inDim ?? 1;
    const input = h('textarea', {
      id: 'predict-input',
      name: 'inputs',
      rows: 3,
      spellcheck: false,
      placeholder: `[${Array.from({ length: Math.min(inDim, 4) }, () => '0').join(', ')}${inDim > 4 ? ', …' : ''}] — one vector, or a list of vectors`,
    });
    input.value = typed ?? JSON.stringify(sampleInput(inDim));
    this.input = input;
    const target = h(
      'select',
      { id: 'predict-target', name: 'target' },
      ...data.aliases.map((a) => h('option', { value: `alias:${a.name}` }, `alias ${a.name}`)),
      ...[...data.versions]
        .reverse()
        .map((v) =>
          h(
            'option',
            { value: `version:${v.id}`, selected: v.id === selectedVersionId },
            `version v${v.seq}`,
          ),
        ),
    );
    const adapters = h(
      'select',
      { id: 'predict-adapters', name: 'adapters' },
      h('option', { value: 'none' }, 'no adapters'),
      h('option', { value: 'auto' }, 'adapters: auto'),
      ...(data.adapters ?? [])
        .filter((a) => !a.removed)
        .map((a) => h('option', { value: `adapter:${a.name}` }, `adapter ${a.name}`)),
    );
    // A version trained with class prototypes is served through them unless this is unchecked (to compare
    // the head alone); versions without prototypes ignore it.
    const prototypes = h(
      'label',
      { class: 'check' },
      h('input', {
        id: 'predict-prototypes',
        name: 'prototypes',
        type: 'checkbox',
        checked: this.prototypesBox?.checked ?? true,
      }),
      ' class prototypes',
    );
    this.prototypesBox = /** @type {HTMLInputElement} */ (prototypes.firstChild);
    const task = h('input', {
      id: 'predict-task',
      name: 'task',
      type: 'number',
      min: 0,
      placeholder: 'task (optional)',
    });
    const form = h(
      'form',
      { id: 'predict-form', onsubmit: (e) => this.submit(e) },
      input,
      h(
        'div',
        { class: 'inline' },
        target,
        adapters,
        prototypes,
        task,
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              input.value = JSON.stringify(sampleInput(inDim, Math.random));
            },
          },
          'Random input',
        ),
        h('button', { type: 'submit' }, 'Predict'),
      ),
    );
    replace(this.container, form, this.output);
  }

  /** @param {SubmitEvent} event */
  async submit(event) {
    event.preventDefault();
    const fields = new FormData(/** @type {HTMLFormElement} */ (event.target));
    let inputs;
    try {
      const parsed = JSON.parse(String(fields.get('inputs')));
      inputs = Array.isArray(parsed[0]) ? parsed : [parsed];
    } catch {
      replace(this.output, h('p', { class: 'error' }, 'Inputs must be JSON: [x1, x2, …] or [[…], […]].'));
      return;
    }
    const [kind, value] = String(fields.get('target')).split(/:(.*)/s);
    /** @type {Record<string, unknown>} */
    const adapters = String(fields.get('adapters'));
    const body = {
      inputs,
      explain: true,
      prototypes: fields.get('prototypes') !== null,
      adapters: adapters.startsWith('adapter:')
        ? [{ name: adapters.slice('adapter:'.length), weight: 1 }]
        : adapters,
    };
    if (kind === 'alias') body.alias = value;
    else if (kind === 'version') body.version = value;
    const task = String(fields.get('task') ?? '');
    if (task !== '') body.task = Number(task);
    replace(this.output, h('p', { class: 'empty' }, 'Predicting…'));
    try {
      const result = await call('POST', `/v1/models/${encodeURIComponent(this.model.id)}/predict`, {
        json: body,
      });
      this.show(result);
    } catch (error) {
      replace(this.output);
      this.hooks.onError(error);
    }
  }

  /** Renders a predict response; the first input's experts are highlighted on the usage heatmap. */
  show(result) {
    const blocks = (result.outputs ?? []).map((output, i) => {
      const explain = result.explain?.[i];
      const probabilities = output.probabilities ?? [];
      return h(
        'div',
        { class: 'prediction', dataset: { input: String(i), class: String(output.class) } },
        h('h4', {}, `Input ${i + 1}: class `, h('span', { class: 'predicted-class' }, String(output.class))),
        h(
          'div',
          { class: 'probabilities' },
          ...probabilities.map((p, c) =>
            h(
              'div',
              { class: c === output.class ? 'bar top' : 'bar' },
              h('span', { class: 'label' }, String(c)),
              h('meter', { min: 0, max: 1, value: p }),
              h('span', { class: 'num' }, num(p, 3)),
            ),
          ),
        ),
        explain ? explainView(explain) : null,
      );
    });
    const version = result.version;
    replace(
      this.output,
      version
        ? h(
            'p',
            { class: 'summary', id: 'predict-version', dataset: { versionId: version.id } },
            `Answered by v${version.seq} (content ${String(version.contentHash ?? '').slice(0, 8)}).`,
          )
        : null,
      prototypesNote(result.prototypes),
      ...blocks,
    );
    const first = result.explain?.[0];
    this.hooks.onExperts(
      (first?.layers ?? []).flatMap((layer) =>
        (layer.heads ?? []).flatMap((head) =>
          (head.experts ?? []).map((e) => ({ ...e, layer: layer.layer })),
        ),
      ),
    );
  }
}

/**
 * Which class prototypes corrected the probabilities below, or null when the head answered alone.
 * @param {{ mode: string, space: string, weight: number, centroids: number } | null | undefined} used
 */
function prototypesNote(used) {
  if (!used) return null;
  return h(
    'p',
    { class: 'summary', id: 'predict-prototypes-note', dataset: { mode: used.mode } },
    `Corrected by the version's class prototypes: ${used.centroids} centroids in ${used.space} space, ` +
      `mode ${used.mode}, weight ${used.weight}.`,
  );
}

/** A deterministic input (or a random one when `random` is given) of the model's input width. */
function sampleInput(inDim, random) {
  return Array.from({ length: inDim }, (_, i) =>
    Number(((random ? random() : ((i * 37) % 11) / 11) - 0.5).toFixed(3)),
  );
}
