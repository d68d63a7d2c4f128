import { describe, expect, it } from 'vitest';
import { ProgressBar, renderProgress } from './progress-bar.js';

describe('renderProgress', () => {
  it('shows the share done, bytes in MB and the record rate', () => {
    const line = renderProgress({ done: 5_000_000, total: 10_000_000, records: 2000, label: 'part 1/2' }, 2);
    expect(line).toBe('[==============>               ]   50%  5.0/10.0 MB  1,000 rec/s  part 1/2');
  });

  it('shows steps and steps/s for a training job, and a full bar at the end', () => {
    const line = renderProgress({ done: 300, total: 300, unit: 'steps', label: 'loss 0.010' }, 10);
    expect(line).toBe('[==============================]  100%  300/300 steps  30.0 steps/s  loss 0.010');
  });
});

describe('ProgressBar', () => {
  it('redraws in place on a terminal at most every 100 ms, and ends the line when done', () => {
    let t = 0;
    const out: string[] = [];
    const bar = new ProgressBar({ write: (s: string) => out.push(s), isTTY: true, columns: 80 }, () => t);
    bar.update({ done: 1, total: 10 });
    t = 50;
    bar.update({ done: 2, total: 10 });
    t = 150;
    bar.update({ done: 3, total: 10 });
    bar.update({ done: 10, total: 10 }, true);
    bar.done();
    expect(out).toHaveLength(4);
    expect(out.slice(0, 3).every((s) => s.startsWith('\r'))).toBe(true);
    expect(out[3]).toBe('\n');
  });

  it('prints plain lines every two seconds without a terminal', () => {
    let t = 0;
    const out: string[] = [];
    const bar = new ProgressBar({ write: (s: string) => out.push(s) }, () => t);
    for (t = 0; t < 5000; t += 100) bar.update({ done: t, total: 5000 });
    bar.done();
    expect(out).toHaveLength(3);
    expect(out.every((s) => s.endsWith('\n') && !s.startsWith('\r'))).toBe(true);
  });
});
