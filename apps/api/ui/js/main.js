import { ApiRequestError, call, clearKey, listOf, loadKey, saveKey } from './api.js';
import { byId, h, replace } from './dom.js';
import { lineageOf } from './lineage.js';
import { clearVersionCache, loadModelData, loadVersion } from './model-data.js';
import { renderAccuracy } from './views/accuracy.js';
import { JobsPanel } from './views/jobs.js';
import { renderModels } from './views/models.js';
import { PredictPanel } from './views/predict.js';
import { renderTimeline } from './views/timeline.js';
import { renderUsage } from './views/usage.js';

/**
 * The dashboard's state and wiring: the key form, the selected model and version, and which view to
 * redraw when they change. Views render from the state and report user actions back through callbacks.
 */
const state = {
  /** @type {any[]} */
  models: [],
  /** @type {Awaited<ReturnType<typeof loadModelData>> | undefined} */
  data: undefined,
  /** @type {string | undefined} */
  modelId: undefined,
  /** @type {string | undefined} */
  versionId: undefined,
  /** @type {string | undefined} */
  layer: undefined,
  /** @type {any[]} experts of the last prediction, circled on the usage heatmap */
  fired: [],
};

const jobs = new JobsPanel(byId('jobs'), {
  onDone: (versionId) => reloadModel(versionId),
  onError: showError,
});
const predict = new PredictPanel(byId('predict'), {
  onExperts: (experts) => {
    state.fired = experts;
    drawVersion();
  },
  onError: showError,
});

byId('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = /** @type {HTMLInputElement} */ (byId('key-input'));
  const key = input.value.trim();
  if (!key) return;
  saveKey(key);
  input.value = '';
  start();
});
byId('forget-key').addEventListener('click', () => {
  clearKey();
  signedOut();
});

if (loadKey()) start();
else signedOut();

/** With a key: list the tenant's models and open one (from the URL hash, else the first). */
async function start() {
  byId('key-form').hidden = true;
  byId('key-status').hidden = false;
  showError(undefined);
  try {
    state.models = listOf(await call('GET', '/v1/models'), 'models');
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 401) {
      clearKey();
      signedOut();
    }
    showError(error);
    return;
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get('model');
  const first = state.models.find((m) => m.id === wanted) ?? state.models[0];
  drawModels();
  if (first) await selectModel(first.id);
  else byId('model-view').hidden = true;
}

function signedOut() {
  jobs.stop();
  clearVersionCache();
  Object.assign(state, { models: [], data: undefined, modelId: undefined, versionId: undefined, fired: [] });
  byId('key-form').hidden = false;
  byId('key-status').hidden = true;
  byId('model-view').hidden = true;
  replace(byId('models'));
  document.body.dataset.ready = 'signed-out';
}

async function selectModel(modelId) {
  jobs.stop();
  state.modelId = modelId;
  state.fired = [];
  history.replaceState(null, '', `#model=${encodeURIComponent(modelId)}`);
  drawModels();
  await reloadModel(undefined);
}

/** Re-reads the model (after selection, or when a job committed `versionId`) and redraws everything. */
async function reloadModel(versionId) {
  const modelId = state.modelId;
  if (!modelId) return;
  document.body.dataset.ready = 'loading';
  let data;
  try {
    data = await loadModelData(modelId);
  } catch (error) {
    showError(error);
    return;
  }
  if (state.modelId !== modelId) return; // another model was selected meanwhile
  state.data = data;
  const known = (id) => id && data.versions.some((v) => v.id === id);
  state.versionId = known(versionId)
    ? versionId
    : known(state.versionId) && !versionId
      ? state.versionId
      : (data.model.headVersionId ?? data.versions.at(-1)?.id);
  byId('model-view').hidden = false;
  replace(byId('model-title'), data.model.name, h('small', {}, ` ${data.model.id}`));
  const index = state.models.findIndex((m) => m.id === modelId);
  if (index >= 0) state.models[index] = data.model;
  drawModels();
  jobs.render(data);
  predict.render(data, state.versionId);
  drawVersion();
  document.body.dataset.ready = 'model';
}

function selectVersion(versionId) {
  state.versionId = versionId;
  state.fired = [];
  if (state.data) predict.render(state.data, versionId);
  drawVersion();
}

function drawModels() {
  renderModels(byId('models'), { models: state.models, selectedId: state.modelId, onSelect: selectModel });
}

/** Redraws what depends on the selected version: timeline highlight, accuracy matrix, usage heatmap. */
function drawVersion() {
  const data = state.data;
  if (!data) return;
  const chain = state.versionId ? lineageOf(data.versions, state.versionId) : [];
  const version = chain.at(-1);
  renderTimeline(byId('timeline'), {
    versions: data.versions,
    aliases: data.aliases,
    moves: data.moves,
    selectedId: state.versionId,
    onSelect: selectVersion,
  });
  for (const id of ['accuracy-version', 'usage-version'])
    byId(id).textContent = version ? `· v${version.seq}` : '';
  renderAccuracy(byId('accuracy'), chain);
  if (!version) return;
  // Usage grids are only in the full version (the list leaves them out); draw once it is here.
  const drawUsage = (detail) =>
    renderUsage(byId('usage'), {
      chain,
      versions: data.versions,
      usage: detail?.metrics?.usage,
      layer: state.layer,
      highlight: state.fired,
      onLayer: (layer) => {
        state.layer = layer;
        drawVersion();
      },
    });
  loadVersion(data.model.id, version.id).then(
    (detail) => {
      if (state.versionId === version.id && state.data === data) drawUsage(detail);
    },
    (error) => showError(error),
  );
}

/** Shows an API or page error in the notice bar (or clears it with `undefined`). */
function showError(error) {
  const notice = byId('notice');
  if (error === undefined) {
    notice.hidden = true;
    replace(notice);
    return;
  }
  const field =
    error instanceof ApiRequestError && error.details.field ? ` (field ${error.details.field})` : '';
  replace(
    notice,
    h('strong', {}, error instanceof ApiRequestError ? `${error.code}: ` : 'Error: '),
    `${error.message ?? error}${field}`,
  );
  notice.hidden = false;
}
