import type { TensorBlock } from '@peer/core/serialization';

/** Row-block name as the core cuts expert tables: `<table>.rows.<start>-<end>`, six digits each. */
export function rowBlockName(table: string, start: number, end: number): string {
  return `${table}.rows.${String(start).padStart(6, '0')}-${String(end).padStart(6, '0')}`;
}

/** Deterministic float32 contents for (table, row, column): different per seed, reproducible. */
function fill(out: Float32Array, seed: number, startRow: number, rowWidth: number): void {
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < out.length; i++) {
    const row = startRow + Math.floor(i / rowWidth);
    x = (Math.imul(x ^ (row * 40503 + (i % rowWidth)), 1597334677) + 0x9e3779b9) >>> 0;
    out[i] = (x / 4294967296 - 0.5) * 0.1;
  }
}

/** Options of a synthetic row-sliced table. */
export interface TableSpec {
  readonly table: string;
  /** Rows [startRow, endRow) are generated. */
  readonly startRow?: number;
  readonly endRow: number;
  readonly rowsPerBlock: number;
  /** float32 values per row. */
  readonly rowWidth: number;
  readonly seed?: number;
}

/** Lazily generated blocks of a table (one block in memory at a time). */
export function* tableBlocks(spec: TableSpec): Generator<TensorBlock> {
  for (let start = spec.startRow ?? 0; start < spec.endRow; start += spec.rowsPerBlock) {
    const end = Math.min(start + spec.rowsPerBlock, spec.endRow);
    const values = new Float32Array((end - start) * spec.rowWidth);
    fill(values, spec.seed ?? 1, start, spec.rowWidth);
    yield {
      name: rowBlockName(spec.table, start, end),
      dtype: 'float32',
      shape: [end - start, spec.rowWidth],
      bytes: new Uint8Array(values.buffer),
    };
  }
}

/** One small named block filled with `value` (or the given values). */
export function smallBlock(name: string, value: number | readonly number[], length = 16): TensorBlock {
  const values = typeof value === 'number' ? new Float32Array(length).fill(value) : Float32Array.from(value);
  return { name, dtype: 'float32', shape: [values.length], bytes: new Uint8Array(values.buffer) };
}

/** Equality of two blocks' names, dtypes, shapes and bytes. */
export function sameBlock(a: TensorBlock, b: TensorBlock): boolean {
  if (a.name !== b.name || a.dtype !== b.dtype || a.shape.join() !== b.shape.join()) return false;
  if (a.bytes.byteLength !== b.bytes.byteLength) return false;
  return (
    Buffer.compare(
      Buffer.from(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength),
      Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength),
    ) === 0
  );
}

/** Collects an async iterable. */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}
