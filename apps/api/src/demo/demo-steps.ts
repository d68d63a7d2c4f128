import { followJob } from '../client/job-events.js';
import type { PeerClient } from '../client/peer-client.js';
import { ProgressBar, type ProgressState } from '../client/progress-bar.js';

/** A line of the demo's narrative on stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Percent with one decimal. */
export function pct(x: number | undefined): string {
  return x === undefined ? '   n/a' : `${(x * 100).toFixed(1).padStart(5)}%`;
}

/** What a finished training job reports (`done` event: the new version and its metrics). */
export interface TrainedVersion {
  readonly versionId: string;
  readonly seq: number;
  readonly metrics: {
    accuracy?: Record<string, number>;
    elapsedMs?: number;
    steps?: number;
    finalLoss?: number;
    experts?: number[];
    rowsAdded?: Record<string, [number, number]>;
    continual?: { acc: number; bwt: number; forgetting: number; streams: string[] };
  };
}

/**
 * Queues a training job on `stream`, follows its SSE progress with a bar (step / steps, loss) and returns the
 * committed version. `promote` moves that alias to the new version when the job succeeds.
 */
export async function trainOn(
  client: PeerClient,
  modelId: string,
  body: { stream: string; iterations: number; promote?: string; rows?: number },
): Promise<TrainedVersion> {
  const job = await client.post<{ id: string }>(`/v1/models/${modelId}/jobs`, body);
  const bar = new ProgressBar(process.stderr);
  let last: ProgressState | undefined;
  const final = await followJob(client, job.id, (event) => {
    if (event.type !== 'progress') return;
    const {
      step = 0,
      steps = body.iterations,
      loss,
    } = event.data as { step?: number; steps?: number; loss?: number };
    last = {
      done: step,
      total: steps,
      unit: 'steps',
      ...(typeof loss === 'number' ? { label: `loss ${loss.toFixed(3)}` } : {}),
    };
    bar.update(last);
  });
  if (last) bar.update(last, true);
  bar.done();
  if (final.type !== 'done') {
    const error = (final.data as { error?: { message?: string } }).error;
    throw new Error(`training job ${job.id} ${final.type}: ${error?.message ?? 'no reason given'}`);
  }
  const versionId = String(final.data.versionId);
  const version = await client.get<{ seq: number }>(`/v1/models/${modelId}/versions/${versionId}`);
  return { versionId, seq: version.seq, metrics: (final.data.metrics ?? {}) as TrainedVersion['metrics'] };
}

/** Where a prediction is served from: an alias or a pinned version id. */
export type Target = { alias: string } | { version: string };

/** Predicts `inputs` in batches at `target`; returns the predicted classes and the version that answered. */
export async function predictAll(
  client: PeerClient,
  modelId: string,
  inputs: readonly number[][],
  target: Target,
): Promise<{ classes: number[]; versionSeq: number }> {
  const classes: number[] = [];
  let versionSeq = 0;
  for (let at = 0; at < inputs.length; at += 250) {
    const answer = await client.post<{ version: { seq: number }; outputs: { class: number }[] }>(
      `/v1/models/${modelId}/predict`,
      { inputs: inputs.slice(at, at + 250), ...target },
    );
    versionSeq = answer.version.seq;
    for (const o of answer.outputs) classes.push(o.class);
  }
  return { classes, versionSeq };
}

/** Share of `predicted` equal to `labels`. */
export function accuracy(predicted: readonly number[], labels: readonly number[]): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) right += 1;
  return labels.length > 0 ? right / labels.length : 0;
}
