import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { IngestResult, LineError } from '../ingest/ingest-stream.js';
import { PeerApiError } from './client-error.js';
import { type NdjsonPart, splitNdjsonFile } from './ndjson-parts.js';
import type { PeerClient } from './peer-client.js';
import type { ProgressState } from './progress-bar.js';

/** Default request size: well under the server's default 64 MiB body limit, so a part is never a 413. */
export const DEFAULT_PART_BYTES = 32 * 1024 * 1024;
/** Attempts of one part when the server says "later" (429 rate limit, 503 draining). */
const MAX_ATTEMPTS = 4;

/** What `ingestFile` sends. */
export interface IngestFileOptions {
  readonly client: PeerClient;
  readonly modelId: string;
  readonly stream: string;
  readonly path: string;
  /** Largest request body; parts end at line boundaries. */
  readonly maxPartBytes?: number;
  /** Base idempotency key; default derived from the file (see `fileIdempotencyKey`). Part i sends `<key>.p<i>`. */
  readonly idempotencyKey?: string;
  readonly onProgress?: (state: ProgressState) => void;
}

/** The combined answer of every part of one file. */
export interface IngestFileResult {
  readonly file: string;
  readonly idempotencyKey: string;
  readonly bytes: number;
  readonly parts: number;
  readonly lines: number;
  readonly accepted: number;
  readonly rejected: number;
  /** First and last stream offset over all parts (null if nothing was accepted). */
  readonly offsets: [number, number] | null;
  /** True when every part had been ingested before under the same key. */
  readonly replayed: boolean;
  /** Rejected lines, numbered within the file (at most the server's per-request list). */
  readonly errors: LineError[];
  readonly results: IngestResult[];
}

/**
 * The default idempotency key of a file: a hash of its absolute path, size and modification time. Re-running
 * the same command on an unchanged file replays instead of storing the records twice; editing the file
 * changes the key.
 */
export async function fileIdempotencyKey(path: string): Promise<string> {
  const info = await stat(path);
  const digest = createHash('sha256')
    .update(`${resolve(path)}\0${info.size}\0${info.mtimeMs}`)
    .digest('hex');
  return `file-${digest.slice(0, 32)}`;
}

/**
 * Streams an NDJSON file to `POST /v1/models/{id}/streams/{stream}/records`, never holding it in memory:
 * split into parts of at most `maxPartBytes` at line boundaries, each sent as one request with its own key.
 * Parts go one after another; if one fails, the error is thrown and running the same ingest again replays
 * the parts already stored and continues with the rest.
 */
export async function ingestFile(options: IngestFileOptions): Promise<IngestFileResult> {
  const { path } = options;
  const info = await stat(path);
  const maxPartBytes = options.maxPartBytes ?? DEFAULT_PART_BYTES;
  const key = options.idempotencyKey ?? (await fileIdempotencyKey(path));
  const parts = await splitNdjsonFile(path, maxPartBytes);
  const progress = { bytes: 0, records: 0 };
  const results: IngestResult[] = [];
  const errors: LineError[] = [];
  let lineBase = 0;
  for (const part of parts) {
    const label = parts.length > 1 ? `part ${part.index + 1}/${parts.length}` : undefined;
    const before = { ...progress };
    const result = await sendPart(options, part, `${key}.p${part.index}`, (bytes, records) => {
      progress.bytes = before.bytes + bytes;
      progress.records = before.records + records;
      options.onProgress?.({ done: progress.bytes, total: info.size, records: progress.records, label });
    });
    progress.bytes = before.bytes + (part.end - part.start);
    progress.records = before.records + part.lines;
    results.push(result);
    for (const e of result.errors) errors.push({ ...e, line: e.line + lineBase });
    lineBase += part.lines;
  }
  const firsts = results.flatMap((r) => (r.offsets ? [r.offsets[0]] : []));
  const lasts = results.flatMap((r) => (r.offsets ? [r.offsets[1]] : []));
  return {
    file: path,
    idempotencyKey: key,
    bytes: info.size,
    parts: parts.length,
    lines: sum(results.map((r) => r.lines)),
    accepted: sum(results.map((r) => r.accepted)),
    rejected: sum(results.map((r) => r.rejected)),
    offsets: firsts.length > 0 ? [Math.min(...firsts), Math.max(...lasts)] : null,
    replayed: results.length > 0 && results.every((r) => r.replayed),
    errors,
    results,
  };
}

/** Sends one part, retrying while the server asks to come back later (Retry-After). */
async function sendPart(
  options: IngestFileOptions,
  part: NdjsonPart,
  key: string,
  onSent: (bytes: number, records: number) => void,
): Promise<IngestResult> {
  const path = `/v1/models/${options.modelId}/streams/${encodeURIComponent(options.stream)}/records`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await options.client.request<IngestResult>('POST', path, {
        body: partBody(options.path, part, onSent),
        headers: {
          'content-type': 'application/x-ndjson',
          'content-length': String(part.end - part.start),
          'idempotency-key': key,
        },
      });
    } catch (error) {
      const retryable = error instanceof PeerApiError && (error.status === 429 || error.status === 503);
      if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
      const seconds = Number(error.headers.get('retry-after') ?? '1');
      await new Promise((r) => setTimeout(r, Math.min(30, Number.isFinite(seconds) ? seconds : 1) * 1000));
    }
  }
}

/** The part's bytes as a web stream that reports bytes and newlines as they are pulled by the upload. */
function partBody(
  path: string,
  part: NdjsonPart,
  onSent: (bytes: number, records: number) => void,
): ReadableStream<Uint8Array> {
  // `end` of createReadStream is inclusive; an empty part would read the whole file, so guard it.
  const file =
    part.end > part.start
      ? createReadStream(path, { start: part.start, end: part.end - 1, highWaterMark: 256 * 1024 })
      : Readable.from([]);
  let bytes = 0;
  let records = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) records += 1;
      onSent(bytes, records);
      controller.enqueue(chunk);
    },
  });
  return (Readable.toWeb(file) as unknown as ReadableStream<Uint8Array>).pipeThrough(counter);
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
