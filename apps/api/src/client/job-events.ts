import { PeerConnectionError } from './client-error.js';
import { type PeerClient, readJson } from './peer-client.js';
import { parseSse } from './sse.js';

/** A job event as the SSE stream `GET /v1/jobs/{id}/events` sends it. */
export interface JobStreamEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/** Events after which the server closes the stream. */
export const TERMINAL_EVENTS = ['done', 'failed', 'cancelled'] as const;

/** Reconnects allowed after the stream broke off before a terminal event (a server restart, a proxy timeout). */
const MAX_RECONNECTS = 5;

/**
 * Follows a job's events until `done`, `failed` or `cancelled`, calling `onEvent` for each and returning the
 * terminal one. A dropped connection resumes with `Last-Event-ID`, so no event is seen twice or missed.
 */
export async function followJob(
  client: PeerClient,
  jobId: string,
  onEvent: (event: JobStreamEvent) => void = () => {},
  options: { signal?: AbortSignal } = {},
): Promise<JobStreamEvent> {
  let lastSeq: number | undefined;
  for (let attempt = 0; attempt <= MAX_RECONNECTS; attempt++) {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastSeq !== undefined) headers['last-event-id'] = String(lastSeq);
    const response = await client.send('GET', `/v1/jobs/${jobId}/events`, {
      headers,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok) await readJson(client.url, response);
    if (!response.body) throw new PeerConnectionError(client.url, 'the event stream has no body');
    try {
      for await (const message of parseSse(response.body)) {
        const seq = Number(message.id);
        if (Number.isFinite(seq)) lastSeq = seq;
        const event: JobStreamEvent = {
          seq,
          type: message.event,
          data: message.data ? (JSON.parse(message.data) as Record<string, unknown>) : {},
        };
        onEvent(event);
        if ((TERMINAL_EVENTS as readonly string[]).includes(event.type)) return event;
      }
    } catch (error) {
      if (options.signal?.aborted) throw error;
      // A broken connection: resume below.
    }
    await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
  }
  throw new PeerConnectionError(
    client.url,
    `the event stream of job ${jobId} ended without a terminal event`,
  );
}
