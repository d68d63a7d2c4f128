import { ApiRequestError, call, send } from '../api.js';
import { h, num, replace, short } from '../dom.js';
import { plotLibrary } from '../plot.js';
import { followEvents } from '../sse.js';

const FINAL_EVENTS = new Set(['done', 'failed', 'cancelled']);

/** Job statuses that still change. */
export const ACTIVE = new Set(['queued', 'running']);

/**
 * Live progress of one job from `GET /v1/jobs/{id}/events` (SSE read with fetch, since EventSource cannot
 * send the key): a progress bar, the loss curve, and the outcome. Following a finished job replays its
 * events, so its curve can be reviewed; only a job seen running reports `onDone`.
 */
export class JobLive {
  /**
   * @param {{ onDone: (versionId: string) => void, onError: (error: unknown) => void }} hooks
   */
  constructor(hooks) {
    this.hooks = hooks;
    /** @type {AbortController | undefined} */
    this.following = undefined;
    this.el = h('div', { id: 'job-live', class: 'job-live', hidden: true });
  }

  /** Stops reading the current job's events. */
  stop() {
    this.following?.abort();
    this.following = undefined;
  }

  /**
   * Shows a job's progress from its event stream until it ends.
   * @param {any} job a job view
   */
  follow(job) {
    this.stop();
    const controller = new AbortController();
    this.following = controller;
    const wasActive = ACTIVE.has(job.status);
    const steps = job.spec?.iterations ?? job.progress?.steps ?? 0;
    const bar = h('progress', { id: 'job-progress', max: steps || 1, value: 0 });
    const status = h('span', { id: 'job-status', class: `status ${job.status}` }, job.status);
    const detail = h('span', { id: 'job-detail' }, '');
    const chart = h('div', { id: 'loss-chart', class: 'chart' });
    const cancel = h(
      'button',
      {
        type: 'button',
        hidden: !wasActive,
        onclick: () => call('DELETE', `/v1/jobs/${encodeURIComponent(job.id)}`).catch(this.hooks.onError),
      },
      'Cancel',
    );
    replace(
      this.el,
      h('div', { class: 'job-head' }, h('strong', {}, 'Job '), short(job.id), ' ', status, ' ', cancel),
      bar,
      detail,
      chart,
    );
    this.el.hidden = false;
    this.el.dataset.jobId = job.id;
    delete this.el.dataset.resultVersionId;
    delete this.el.dataset.finished;
    /** @type {Array<{ step: number, loss: number }>} */
    const points = [];
    let drawn = 0;
    const draw = () => {
      if (points.length === drawn) return;
      drawn = points.length;
      replace(chart, lossChart(points, Number(bar.max)));
    };
    const timer = setInterval(draw, 300);
    controller.signal.addEventListener('abort', () => clearInterval(timer));
    followEvents(
      (headers, signal) =>
        send('GET', `/v1/jobs/${encodeURIComponent(job.id)}/events`, {
          headers: { accept: 'text/event-stream', ...headers },
          signal,
        }),
      {
        signal: controller.signal,
        isLast: (e) => FINAL_EVENTS.has(e.event),
        shouldRetry: (error) =>
          !(error instanceof ApiRequestError) || error.status === 0 || error.status >= 500,
        onEvent: (e) => {
          const data = parseData(e.data);
          if (e.event === 'progress') {
            bar.max = data.steps || bar.max;
            bar.value = data.step ?? 0;
            points.push({ step: data.step, loss: data.loss });
            setStatus(status, 'running');
            detail.textContent = ` step ${data.step} / ${data.steps} · loss ${num(data.loss, 4)} · ${num((data.elapsedMs ?? 0) / 1000, 1)} s`;
          } else if (e.event === 'done') {
            bar.value = bar.max;
            setStatus(status, 'succeeded');
            cancel.hidden = true;
            detail.textContent = ` done: version ${String(data.versionId ?? '').slice(0, 8)}`;
            this.el.dataset.resultVersionId = data.versionId ?? '';
          } else if (e.event === 'failed') {
            setStatus(status, 'failed');
            cancel.hidden = true;
            detail.textContent = ` failed: ${data.error?.message ?? 'unknown error'}`;
          } else if (e.event === 'retrying') {
            detail.textContent = ` attempt ${data.attempt ?? '?'} failed, retrying: ${data.error?.message ?? ''}`;
          } else if (e.event === 'cancelled') {
            setStatus(status, 'cancelled');
            cancel.hidden = true;
            detail.textContent = ' cancelled';
          }
        },
      },
    )
      .then(() => {
        draw();
        clearInterval(timer);
        const versionId = this.el.dataset.resultVersionId;
        if (wasActive && !controller.signal.aborted) {
          this.el.dataset.finished = 'true';
          if (versionId) this.hooks.onDone(versionId);
        }
      })
      .catch((error) => {
        clearInterval(timer);
        if (!controller.signal.aborted) this.hooks.onError(error);
      });
  }
}

function setStatus(el, status) {
  el.textContent = status;
  el.className = `status ${status}`;
}

function parseData(text) {
  try {
    return JSON.parse(text) ?? {};
  } catch {
    return {};
  }
}

function lossChart(points, steps) {
  const Plot = plotLibrary();
  return Plot.plot({
    height: 180,
    width: 520,
    marginLeft: 50,
    x: { domain: [0, Math.max(steps, ...points.map((p) => p.step))], label: 'step' },
    y: { label: 'loss', grid: true, zero: true },
    marks: [
      Plot.line(points, { x: 'step', y: 'loss', stroke: '#0969da' }),
      Plot.dot(points.slice(-1), { x: 'step', y: 'loss', fill: '#0969da' }),
    ],
  });
}
