/** Label set of one series. */
type Labels = Readonly<Record<string, string>>;

/** Latency buckets in seconds: 1 ms .. 10 s, dense where predict lives. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges sampled at scrape time, and
 * latency histograms. Enough for `/metrics`; a client library would add little for a handful of series.
 */
export class Metrics {
  private readonly counters = new Map<string, { help: string; series: Map<string, number> }>();
  private readonly histograms = new Map<string, { help: string; series: Map<string, Histogram> }>();
  private readonly gauges = new Map<string, { help: string; sample: () => Promise<[Labels, number][]> }>();

  /** Adds `by` to a counter. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    let metric = this.counters.get(name);
    if (!metric) {
      metric = { help, series: new Map() };
      this.counters.set(name, metric);
    }
    const key = labelText(labels);
    metric.series.set(key, (metric.series.get(key) ?? 0) + by);
  }

  /** Records one observation (seconds) in a histogram. */
  observe(name: string, help: string, labels: Labels, seconds: number): void {
    let metric = this.histograms.get(name);
    if (!metric) {
      metric = { help, series: new Map() };
      this.histograms.set(name, metric);
    }
    const key = labelText(labels);
    let h = metric.series.get(key);
    if (!h) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      metric.series.set(key, h);
    }
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.counts[i] = (h.counts[i] ?? 0) + 1;
    });
    h.sum += seconds;
    h.count += 1;
  }

  /** A gauge whose values are read when `/metrics` is scraped (pool sizes, store bytes, queue depth). */
  gauge(name: string, help: string, sample: () => Promise<[Labels, number][]>): void {
    this.gauges.set(name, { help, sample });
  }

  /** The exposition text. */
  async render(): Promise<string> {
    const lines: string[] = [];
    for (const [name, { help, series }] of this.counters) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of series) lines.push(`${name}${labels} ${v}`);
    }
    for (const [name, { help, series }] of this.histograms) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
      for (const [labels, h] of series) {
        const inner = labels.slice(1, -1);
        const join = (extra: string) => `{${inner ? `${inner},` : ''}${extra}}`;
        for (const [i, b] of BUCKETS.entries())
          lines.push(`${name}_bucket${join(`le="${b}"`)} ${h.counts[i] ?? 0}`);
        lines.push(`${name}_bucket${join('le="+Inf"')} ${h.count}`);
        lines.push(`${name}_sum${labels} ${h.sum}`, `${name}_count${labels} ${h.count}`);
      }
    }
    for (const [name, { help, sample }] of this.gauges) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
      for (const [labels, v] of await sample()) lines.push(`${name}${labelText(labels)} ${v}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const quote = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `{${entries.map(([k, v]) => `${k}="${quote(v)}"`).join(',')}}`;
}
