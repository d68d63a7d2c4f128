import { Agent, request } from 'node:http';

/** Latency percentiles (ms) and counts of an open-loop run. */
export interface PacedResult {
  readonly sent: number;
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly durationS: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** The q-quantile of sorted values (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

/**
 * Open-loop load at an even `rate` (wrk2-style): request i is due at `start + i / rate` whatever happened to the
 * earlier ones, and its latency is measured from that due time, so a stall of the server (or of this client)
 * shows up in the percentiles instead of silently lowering the rate ("coordinated omission"). autocannon's
 * `overallRate` instead gives each connection a quota per second that it spends back to back, i.e. a burst
 * at every second boundary. Bodies are sent in turn; keep-alive connections are opened as needed.
 */
export async function pacedLoad(input: {
  url: string;
  path: string;
  headers: Record<string, string>;
  bodies: readonly string[];
  rate: number;
  durationS: number;
}): Promise<PacedResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(input.rate * input.durationS);
  const latencies: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now() + 50;
  const fire = (due: number, body: string) =>
    new Promise<void>((resolve) => {
      const req = request(
        `${input.url}${input.path}`,
        {
          method: 'POST',
          agent,
          headers: { ...input.headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300)
              latencies.push(performance.now() - due);
            else non2xx += 1;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors += 1;
        resolve();
      });
      req.end(body);
    });
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / input.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(fire(due, input.bodies[i % input.bodies.length] ?? ''));
  }
  await Promise.all(pending);
  const durationS = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    sent: total,
    ok: sorted.length,
    non2xx,
    errors,
    durationS,
    p50: round(quantile(sorted, 0.5)),
    p90: round(quantile(sorted, 0.9)),
    p99: round(quantile(sorted, 0.99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}
