import type { AdapterStore, BatchReceipt, JsonObject, Stream } from '@peer/adapter-store';
import { ApiError } from '../http/api-error.js';
import { ndjsonLines } from './ndjson-lines.js';
import type { LineRejection, RecordCheck } from './record-validator.js';

/** Accepted records per store batch: bounds memory while a body streams in (a 784-float record is ~3 KiB). */
export const CHUNK_RECORDS = 4096;
/** Per-line errors listed in a response (the count is always exact). */
export const MAX_REPORTED_ERRORS = 1000;

/** One rejected line. */
export interface LineError extends LineRejection {
  readonly line: number;
}

/** What an ingest request did; also what replaying its idempotency key returns. */
export interface IngestResult {
  readonly ingestId: string;
  readonly streamId: string;
  readonly stream: string;
  readonly lines: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Stream offsets of the accepted records, [first, last] inclusive (null when none were accepted). */
  offsets: [number, number] | null;
  readonly batches: number;
  /** True when every batch of this request had been stored already under the same key. */
  readonly replayed: boolean;
  errors: LineError[];
  readonly errorsTruncated: boolean;
}

/**
 * Reads an NDJSON body line by line as it arrives and stores the valid records durably before returning,
 * `CHUNK_RECORDS` at a time (awaiting each write before reading on is the backpressure).
 *
 * Idempotency without buffering: batch i of a request is stored under `<key>:<i>`, and batch boundaries
 * depend only on the body, so replaying a key with the same body replays every batch (the store returns
 * the first receipts and writes nothing), two concurrent requests with one key race per batch and both get
 * the winner's receipts, and a request cut off half-way (crash, disconnect) completes on retry. A replay
 * with a different body is a 409 (the store compares batch checksums). Batches are written `pending` and
 * acknowledged only once the whole body is stored, so what training sees is exactly what got a 202.
 */
export async function ingestNdjson(input: {
  store: AdapterStore;
  stream: Stream;
  idempotencyKey: string;
  body: AsyncIterable<Uint8Array>;
  check: (value: unknown) => RecordCheck;
  maxLineBytes: number;
  maxBodyBytes: number;
}): Promise<IngestResult> {
  const { store, stream, idempotencyKey } = input;
  const errors: LineError[] = [];
  const receipts: BatchReceipt[] = [];
  let pending: JsonObject[] = [];
  let lines = 0;
  let accepted = 0;
  let rejected = 0;
  let bodyBytes = 0;

  const reject = (line: number, rejection: LineRejection) => {
    rejected += 1;
    if (errors.length < MAX_REPORTED_ERRORS) errors.push({ line, ...rejection });
  };
  const flush = async () => {
    if (pending.length === 0) return;
    const receipt = await store.recordBatch({
      streamId: stream.id,
      idempotencyKey: `${idempotencyKey}:${receipts.length}`,
      records: pending,
      // Pending until the whole request is stored: a request cut off before its 202 never trains.
      pending: true,
    });
    receipts.push(receipt);
    pending = [];
  };

  // If anything below throws (413, a disconnect), the batches written so far stay `pending`: never trained
  // on, and acknowledged by a retry of the key.
  const onBytes = (n: number) => {
    bodyBytes += n;
    if (bodyBytes > input.maxBodyBytes) {
      throw new ApiError(413, 'payload_too_large', `request body exceeds ${input.maxBodyBytes} bytes`, {
        field: 'body',
        bound: `<= ${input.maxBodyBytes} bytes`,
        value: bodyBytes,
      });
    }
  };
  for await (const line of ndjsonLines(input.body, { maxLineBytes: input.maxLineBytes, onBytes })) {
    lines += 1;
    if ('error' in line) {
      reject(
        line.line,
        line.error === 'line_too_long'
          ? { reason: `line is ${line.bytes} bytes, longer than the limit of ${input.maxLineBytes}` }
          : { reason: 'line is not valid UTF-8' },
      );
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(line.text);
    } catch (error) {
      reject(line.line, { reason: `malformed JSON: ${(error as Error).message}` });
      continue;
    }
    const checked = input.check(value);
    if ('rejection' in checked) {
      reject(line.line, checked.rejection);
      continue;
    }
    // Flush only once a further record exists, so the last batch is never empty and batch
    // boundaries are a function of the accepted records alone.
    if (pending.length === CHUNK_RECORDS) await flush();
    pending.push(checked.record);
    accepted += 1;
  }
  await flush();
  // Everything is stored: acknowledge (and sample into the replay reservoir) before answering 202. A replayed
  // batch acknowledged by an earlier request is left as it is.
  for (const r of receipts) {
    if (r.status === 'pending' || r.status === 'discarded') {
      await store.acknowledgeBatch(stream.id, r.idempotencyKey, { sampleReplay: true });
    }
  }
  const first = receipts[0];
  const last = receipts[receipts.length - 1];
  return {
    ingestId: idempotencyKey,
    streamId: stream.id,
    stream: stream.name,
    lines,
    accepted,
    rejected,
    offsets: first && last ? [first.firstOffset, last.firstOffset + last.recordCount - 1] : null,
    batches: receipts.length,
    replayed: receipts.length > 0 && receipts.every((r) => r.replayed),
    errors,
    errorsTruncated: rejected > errors.length,
  };
}
