/**
 * Server-sent events over `fetch`. `EventSource` cannot send an `Authorization` header, so the page reads
 * `text/event-stream` itself: parsing follows the WHATWG HTML "event stream interpretation" rules (fields
 * `event`, `data` (joined by newlines), `id`, `retry`; lines starting with `:` are comments; an event is
 * dispatched at a blank line; CR, LF and CRLF all end a line). No DOM is used, so Node can run it too.
 */

/**
 * @typedef {{ event: string, data: string, id: string | undefined }} ServerEvent
 */

/**
 * Parses a byte stream of `text/event-stream` into events.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<ServerEvent>}
 */
export async function* parseEventStream(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = '';
  let data = [];
  /** @type {string | undefined} */
  let id;
  let sawData = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return; // an unterminated last event is discarded, as the spec says
      buffer += value;
      for (;;) {
        const end = buffer.search(/\r\n|\r|\n/);
        // A lone CR at the end of the chunk may be the first half of CRLF: wait for more.
        if (end < 0 || (buffer[end] === '\r' && end === buffer.length - 1)) break;
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
        if (line === '') {
          if (sawData) yield { event: event || 'message', data: data.join('\n'), id };
          event = '';
          data = [];
          sawData = false;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event = value;
        else if (field === 'data') {
          data.push(value);
          sawData = true;
        } else if (field === 'id' && !value.includes('\0')) id = value;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** The stream ended (or kept failing) before its last event. */
export class EventStreamError extends Error {
  /** @param {string} message @param {{ cause?: unknown }} [options] */
  constructor(message, options) {
    super(message, options);
    this.name = 'EventStreamError';
  }
}

/**
 * Follows an event stream until `isLast(event)` says it is over, reconnecting with `Last-Event-ID` when the
 * connection drops early (a server restart, a proxy timeout), so no event is seen twice or missed.
 * `shouldRetry(error)` tells a transient failure (retry) from a final one such as a 404 (rethrown).
 * @param {(headers: Record<string, string>, signal: AbortSignal) => Promise<Response>} open
 * @param {{ onEvent: (e: ServerEvent) => void, isLast: (e: ServerEvent) => boolean, signal: AbortSignal,
 *   shouldRetry?: (error: unknown) => boolean, retries?: number, retryMs?: number }} options
 */
export async function followEvents(open, options) {
  const { onEvent, isLast, signal, shouldRetry = () => true, retries = 5, retryMs = 1000 } = options;
  /** @type {string | undefined} */
  let lastId;
  /** @type {unknown} */
  let lastError;
  for (let failures = 0; failures <= retries; failures++) {
    if (failures > 0) await delay(retryMs * failures, signal);
    try {
      const response = await open(lastId === undefined ? {} : { 'last-event-id': lastId }, signal);
      if (!response.body) continue;
      for await (const event of parseEventStream(response.body)) {
        if (event.id !== undefined) lastId = event.id;
        onEvent(event);
        if (isLast(event)) return;
        failures = 0; // the budget is for consecutive failures, not for a long job's reconnects
      }
    } catch (error) {
      if (signal.aborted || !shouldRetry(error)) throw error;
      lastError = error;
    }
  }
  throw new EventStreamError(`the event stream ended ${retries + 1} times before its last event`, {
    cause: lastError,
  });
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal
 */
function delay(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
