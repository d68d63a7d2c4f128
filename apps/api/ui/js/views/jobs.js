import { call } from '../api.js';
import { h, num, replace, short, when } from '../dom.js';
import { ACTIVE, JobLive } from './job-live.js';

/**
 * Training jobs of the model: a form that starts one, the list (click a job to see its progress), and
 * the live view of one job.
 */
export class JobsPanel {
  /**
   * @param {HTMLElement} container
   * @param {{ onDone: (versionId: string) => void, onError: (error: unknown) => void }} hooks
   */
  constructor(container, hooks) {
    this.container = container;
    this.hooks = hooks;
    this.live = new JobLive(hooks);
  }

  /**
   * @param {{ model: any, streams: any[], jobs: any[], versions: any[] }} data
   */
  render(data) {
    this.modelId = data.model.id;
    const seqOf = new Map(data.versions.map((v) => [v.id, v.seq]));
    const stream = h(
      'select',
      { name: 'stream', id: 'job-stream', required: true },
      ...data.streams.map((s) => h('option', { value: s.name }, `${s.name} (${s.records} records)`)),
    );
    const form = h(
      'form',
      { id: 'job-form', class: 'inline', onsubmit: (e) => this.start(e) },
      h('label', {}, 'Stream ', stream),
      h('label', {}, 'Iterations ', h('input', { name: 'iterations', type: 'number', min: 1, value: 100 })),
      h(
        'label',
        {},
        'Rows to add ',
        h('input', { name: 'rows', type: 'number', min: 1, max: 4096, value: 4 }),
      ),
      h('button', { type: 'submit', disabled: data.streams.length === 0 }, 'Start training'),
    );
    const rows = data.jobs.map((job) =>
      h(
        'tr',
        { dataset: { jobId: job.id, status: job.status }, onclick: () => this.live.follow(job) },
        h('td', {}, short(job.id)),
        h('td', {}, job.kind),
        h('td', {}, job.spec?.stream ?? ''),
        h('td', {}, h('span', { class: `status ${job.status}` }, job.status)),
        h('td', { class: 'num' }, progressText(job)),
        h('td', { title: when(job.createdAt) }, clock(job.createdAt)),
        h('td', {}, resultText(job, seqOf)),
      ),
    );
    const list =
      rows.length === 0
        ? h('p', { class: 'empty' }, 'No jobs yet.')
        : h(
            'table',
            { id: 'job-table', class: 'clickable' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['job', 'kind', 'stream', 'status', 'progress', 'created', 'result'].map((t) =>
                  h('th', {}, t),
                ),
              ),
            ),
            h('tbody', {}, ...rows),
          );
    replace(this.container, form, this.live.el, list);
    const latest = data.jobs[0];
    // A running job is followed at once; otherwise the latest one's curve is shown, unless one already is.
    if (latest && (ACTIVE.has(latest.status) || !this.live.following)) this.live.follow(latest);
  }

  /** @param {SubmitEvent} event */
  async start(event) {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.target);
    const fields = new FormData(form);
    try {
      const job = await call('POST', `/v1/models/${encodeURIComponent(this.modelId)}/jobs`, {
        json: {
          stream: fields.get('stream'),
          iterations: Number(fields.get('iterations')),
          rows: Number(fields.get('rows')),
        },
      });
      this.live.follow(job);
    } catch (error) {
      this.hooks.onError(error);
    }
  }

  /** Stops following (another model was selected, or the key was forgotten). */
  stop() {
    this.live.stop();
  }
}

/** Live progress of an active job; a finished one's last heartbeat is stale, so it shows its step count. */
function progressText(job) {
  const progress = job.progress;
  if (job.status === 'succeeded') return `${job.spec?.iterations ?? progress?.steps ?? '?'} steps`;
  if (!ACTIVE.has(job.status) || !progress?.steps) return '–';
  return `${progress.step}/${progress.steps}${typeof progress.loss === 'number' ? ` · ${num(progress.loss, 3)}` : ''}`;
}

/** Time of day only: the list is recent jobs, the full date is in the cell's title. */
function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : '–';
}

/** The version a job committed (as `vN` when it is on the model's line), or why it failed. */
function resultText(job, seqOf) {
  if (!job.resultVersionId) return job.error?.message ?? '';
  const seq = seqOf.get(job.resultVersionId);
  return seq ? h('span', { title: job.resultVersionId }, `v${seq}`) : short(job.resultVersionId);
}
