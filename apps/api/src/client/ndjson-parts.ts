import { createReadStream } from 'node:fs';

/** A byte range of an NDJSON file that ends at a line boundary: the body of one ingest request. */
export interface NdjsonPart {
  readonly index: number;
  /** First byte (inclusive). */
  readonly start: number;
  /** Last byte + 1 (exclusive). */
  readonly end: number;
  /** Lines in the range (the progress bar's records; blank lines included). */
  readonly lines: number;
}

const NEWLINE = 0x0a;

/**
 * Splits an NDJSON file into consecutive ranges of at most `maxBytes` that end at line boundaries, reading
 * it as a stream (one pass, constant memory). A single line longer than `maxBytes` becomes a range of its
 * own (the server then rejects that line, or the request, by its limits). Ranges depend only on the file's
 * bytes and `maxBytes`, so re-running an ingest sends the same ranges under the same idempotency keys.
 */
export async function splitNdjsonFile(path: string, maxBytes: number): Promise<NdjsonPart[]> {
  if (!(Number.isInteger(maxBytes) && maxBytes > 0)) {
    throw new RangeError(`'maxBytes' must be a positive integer, but got ${maxBytes}`);
  }
  const parts: NdjsonPart[] = [];
  let partStart = 0;
  // End (exclusive) of the last complete line seen, and the lines in [partStart, lastLineEnd).
  let lastLineEnd = 0;
  let lines = 0;
  let position = 0;
  const cut = (at: number, count: number) => {
    parts.push({ index: parts.length, start: partStart, end: at, lines: count });
    partStart = at;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl === -1) break;
      const lineEnd = position + nl + 1;
      if (lineEnd - partStart > maxBytes && lastLineEnd > partStart) {
        cut(lastLineEnd, lines);
        lines = 0;
      }
      lastLineEnd = lineEnd;
      lines += 1;
      from = nl + 1;
    }
    position += chunk.length;
  }
  if (position > lastLineEnd) {
    // A last line without a trailing newline.
    if (position - partStart > maxBytes && lastLineEnd > partStart) {
      cut(lastLineEnd, lines);
      lines = 0;
    }
    lines += 1;
  }
  if (position > partStart) cut(position, lines);
  return parts;
}
