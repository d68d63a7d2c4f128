/** A writable terminal-ish sink (process.stderr, or a test buffer). */
export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * What the bar shows: `done` of `total` in `unit`s (bytes of an upload, steps of a training job) and, for an
 * upload, the records sent so far (the rate shown is records/s; steps/s for steps).
 */
export interface ProgressState {
  readonly done: number;
  readonly total: number;
  readonly unit?: 'bytes' | 'steps';
  readonly records?: number;
  readonly label?: string;
}

const WIDTH = 30;
/** Redraws at most this often: a bar redrawn per chunk costs more than the upload on a fast link. */
const REDRAW_MS = 100;
/** Without a terminal a line every few seconds is a log, not a flood. */
const LOG_EVERY_MS = 2_000;

/**
 * A plain progress bar on stderr: `[=====>    ]  42%  12.0/28.6 MB  3,120 rec/s  part 1/3` (or
 * `120/300 steps  8.1 steps/s  loss 0.412`). On a terminal it
 * redraws one line in place; otherwise (CI logs, pipes) it prints a line every two seconds.
 */
export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(
    private readonly sink: ProgressSink,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Shows the state, throttled; `force` draws regardless (the final state). */
  update(state: ProgressState, force = false): void {
    const t = this.now();
    const interval = this.sink.isTTY ? REDRAW_MS : LOG_EVERY_MS;
    if (!force && t - this.lastDraw < interval) return;
    this.lastDraw = t;
    const line = renderProgress(state, (t - this.started) / 1000);
    if (this.sink.isTTY) {
      this.sink.write(`\r${line.padEnd(Math.min(this.sink.columns ?? 100, 120) - 1)}`);
      this.drawn = true;
    } else {
      this.sink.write(`${line}\n`);
    }
  }

  /** Ends the bar's line (on a terminal) so later output starts on a fresh line. */
  done(): void {
    if (this.drawn) this.sink.write('\n');
    this.drawn = false;
  }
}

/** One line of the bar for a state after `seconds`. */
export function renderProgress(state: ProgressState, seconds: number): string {
  const fraction = state.total > 0 ? Math.min(1, state.done / state.total) : 1;
  const filled = Math.round(fraction * WIDTH);
  const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (filled === WIDTH ? '=' : '>') : ''}`;
  const parts = [`[${bar.padEnd(WIDTH)}]`, `${String(Math.floor(fraction * 100)).padStart(3)}%`];
  if (state.unit === 'steps') {
    const rate = seconds > 0 ? state.done / seconds : 0;
    parts.push(`${state.done}/${state.total} steps`, `${rate.toFixed(1)} steps/s`);
  } else {
    const rate = seconds > 0 ? Math.round((state.records ?? 0) / seconds) : 0;
    parts.push(`${mb(state.done)}/${mb(state.total)} MB`, `${rate.toLocaleString('en-US')} rec/s`);
  }
  if (state.label) parts.push(state.label);
  return parts.join('  ');
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
