import type { AdapterStore, BatchReceipt, JsonObject, Stream } from '@peer/adapter-store';
import type { LabeledData } from '@peer/core';

/** Batches a job may learn from: acknowledged ones (and consumed ones, already trained on by earlier jobs). */
const TRAINABLE = new Set<BatchReceipt['status']>(['acknowledged', 'consumed']);
/** Records read per store round trip. */
const PAGE_RECORDS = 10_000;
/** Batch receipts listed per round trip. */
const PAGE_BATCHES = 1000;

/**
 * About one record in ten is held out of training on every job, chosen by a hash of its stream offset: each
 * stream keeps a fixed evaluation set across the lineage (the accuracy matrix compares like with like), and
 * unlike `offset % 10`, the choice cannot alias with a stream whose labels cycle in order.
 */
export function isHeldOut(offset: number): boolean {
  return mix32(offset) % 10 === 0;
}

/** MurmurHash3's 32-bit finaliser: a bijection on uint32 that spreads consecutive integers. */
function mix32(value: number): number {
  let h = (value ^ Math.floor(value / 2 ** 32)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A stream's trainable records, decoded. */
export interface StreamData {
  readonly stream: Stream;
  /** The task most of its records name (0 when none do). */
  readonly task: number;
  /** Training rows (empty when loaded with `train: false`). */
  readonly train: LabeledData;
  readonly heldOut: LabeledData;
  /** The trainable batches, in offset order. */
  readonly batches: readonly BatchReceipt[];
  /** Offsets covered, [first, end) (null without batches). */
  readonly range: readonly [number, number] | null;
}

/** The trainable batches of a stream (discarded ones belong to requests that were never acknowledged). */
export async function trainableBatches(store: AdapterStore, streamId: string): Promise<BatchReceipt[]> {
  const out: BatchReceipt[] = [];
  let fromOffset = 0;
  for (;;) {
    const page = await store.listBatches(streamId, { fromOffset, limit: PAGE_BATCHES });
    out.push(...page.filter((b) => TRAINABLE.has(b.status)));
    const last = page.at(-1);
    if (!last || page.length < PAGE_BATCHES) return out;
    fromOffset = last.firstOffset + last.recordCount;
  }
}

/**
 * Reads and decodes a stream's trainable records into typed arrays, split into training and held-out rows.
 * With `train: false` only the held-out rows are kept (past streams are evaluated, not trained). Pages are
 * awaited one at a time, so the event loop serves requests in between.
 */
export async function loadStreamData(
  store: AdapterStore,
  stream: Stream,
  dims: { inDim: number; classes: number },
  options: { train: boolean },
): Promise<StreamData> {
  const batches = await trainableBatches(store, stream.id);
  const dim = dims.inDim;
  let total = 0;
  let held = 0;
  for (const b of batches) {
    total += b.recordCount;
    for (let o = b.firstOffset; o < b.firstOffset + b.recordCount; o++) if (isHeldOut(o)) held += 1;
  }
  const trainRows = options.train ? total - held : 0;
  const train = { x: new Float32Array(trainRows * dim), y: new Int32Array(trainRows), n: 0 };
  const test = { x: new Float32Array(held * dim), y: new Int32Array(held), n: 0 };
  const tasks = new Map<number, number>();
  for (const b of batches) {
    const end = b.firstOffset + b.recordCount;
    for (let from = b.firstOffset; from < end; from += PAGE_RECORDS) {
      const page = await store.readRecords(stream.id, {
        fromOffset: from,
        limit: Math.min(PAGE_RECORDS, end - from),
      });
      for (const { offset, data } of page) {
        if (offset >= end) break;
        const heldOut = isHeldOut(offset);
        if (!heldOut && !options.train) continue;
        const target = heldOut ? test : train;
        const record = data as JsonObject;
        target.x.set(record.x as number[], target.n * dim);
        target.y[target.n] = record.y as number;
        target.n += 1;
        const task = typeof record.task === 'number' ? record.task : 0;
        tasks.set(task, (tasks.get(task) ?? 0) + 1);
      }
    }
  }
  const first = batches[0];
  const last = batches.at(-1);
  return {
    stream,
    task: modeOf(tasks),
    train: labeled(train, dim, dims.classes),
    heldOut: labeled(test, dim, dims.classes),
    batches,
    range: first && last ? [first.firstOffset, last.firstOffset + last.recordCount] : null,
  };
}

function labeled(
  rows: { x: Float32Array; y: Int32Array; n: number },
  dim: number,
  classes: number,
): LabeledData {
  // A record missing from the ledger (never expected) would leave the tail unfilled: trim to what was read.
  const x = rows.n * dim === rows.x.length ? rows.x : rows.x.slice(0, rows.n * dim);
  const y = rows.n === rows.y.length ? rows.y : rows.y.slice(0, rows.n);
  return { x, y, size: rows.n, dim, classes };
}

function modeOf(counts: Map<number, number>): number {
  let best = 0;
  let bestCount = -1;
  for (const [task, count] of counts) {
    if (count > bestCount) {
      best = task;
      bestCount = count;
    }
  }
  return best;
}
