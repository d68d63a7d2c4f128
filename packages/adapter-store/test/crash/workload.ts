import type { TensorBlock } from '@peer/core/serialization';
import { tableBlocks } from '../helpers/layer.js';

/** Shared by the crash child (writer) and parent (checker): deterministic payloads. */
export const CRASH_ROW_WIDTH = 512; // fp32 per row → 2 KiB rows, 128 KiB per 64-row block
export const CRASH_ROWS_PER_BLOCK = 64;

/** Records of batch `i`: the same for every retry, so replays are byte-identical. */
export function batchRecords(i: number): Array<{ batch: number; n: number; x: number[]; tag: string }> {
  const count = 500 + ((i * 7919) % 1500);
  return Array.from({ length: count }, (_, n) => ({
    batch: i,
    n,
    x: [i, n, (i * n) % 97],
    tag: `b${i}-${n}`,
  }));
}

/** The idempotency key of batch `i`. */
export function batchKey(i: number): string {
  return `batch-${i}`;
}

/** Blocks of growth step `seq`: 4–7 new 64-row blocks per table u/v, appended after `rows`. */
export function growthBlocks(seq: number, rows: number): { blocks: TensorBlock[]; rows: number } {
  const add = CRASH_ROWS_PER_BLOCK * (2 + (seq % 3));
  const spec = {
    startRow: rows,
    endRow: rows + add,
    rowsPerBlock: CRASH_ROWS_PER_BLOCK,
    rowWidth: CRASH_ROW_WIDTH,
  };
  const blocks = [
    ...tableBlocks({ ...spec, table: 'peer0.experts.u', seed: seq * 2 + 1 }),
    ...tableBlocks({ ...spec, table: 'peer0.experts.v', seed: seq * 2 + 2 }),
  ];
  return { blocks, rows: rows + add };
}
