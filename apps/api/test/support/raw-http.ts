import { request } from 'node:http';

/** What a raw request got: the status and body, or the socket error if the server cut it off first. */
export type RawOutcome =
  | { status: number; headers: Record<string, string | string[] | undefined>; body: string }
  | { error: string };

/**
 * One request on its own TCP connection (no keep-alive pool), body written chunk by chunk. For requests the
 * server refuses before reading their body (413): a pooled client would reuse a connection the server is
 * about to close; a fresh one isolates the case from the requests after it.
 *
 * `headersFirst` sends the headers, then waits up to that many ms for an answer before writing the body: a
 * server that refuses by `Content-Length` answers at once, and the client reads that answer instead of racing
 * the server's socket close with its writes (which ends in EPIPE on one run and a 413 on the next).
 */
export function rawRequest(
  url: string,
  options: {
    method: string;
    headers: Record<string, string>;
    chunks: Iterable<Uint8Array>;
    headersFirst?: number;
  },
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let answered = false;
    const req = request(url, { method: options.method, headers: options.headers, agent: false }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        req.destroy();
      });
      res.on('error', (error) => resolve({ error: error.message }));
    });
    // A write error after the answer arrived is expected (we stop writing); before it, it is the outcome.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered) resolve({ error: error.code ?? error.message });
    });
    const iterator = options.chunks[Symbol.iterator]();
    const pump = () => {
      for (;;) {
        if (answered || req.destroyed || req.writableEnded) return;
        const next = iterator.next();
        if (next.done) {
          req.end();
          return;
        }
        if (!req.write(next.value)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    if (options.headersFirst) {
      req.flushHeaders();
      setTimeout(pump, options.headersFirst);
    } else {
      pump();
    }
  });
}

/** `bytes` in chunks of `size` (a lazily sliced upload). */
export function* chunksOf(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
