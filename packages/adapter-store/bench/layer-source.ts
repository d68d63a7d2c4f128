import type { TensorBlock } from '@peer/core/serialization';

/** Target block size: ~2 MB row blocks, as the core cuts expert tables. */
export const TARGET_BLOCK_BYTES = 2 * 1024 * 1024;

/** A PEER layer's expert tables as blocks: `rows` sub-key rows × `width` experts × `dModel` fp32, for u and v. */
export interface LayerShape {
  /** Sub-key rows (n1). */
  readonly rows: number;
  /** Experts per sub-key row (n2). */
  readonly width: number;
  readonly dModel: number;
}

/** Bytes of one sub-key row of one table. */
export function rowBytes(shape: LayerShape): number {
  return shape.width * shape.dModel * 4;
}

/** Rows per block so that a block is ~2 MB. */
export function rowsPerBlock(shape: LayerShape): number {
  return Math.max(1, Math.floor(TARGET_BLOCK_BYTES / rowBytes(shape)));
}

/**
 * Streams the u and v tables of rows [from, to) as ~2 MB blocks. Contents are a random fp32 template
 * stamped with the block's identity, so every block is distinct (no accidental deduplication) while
 * generating them costs one memcpy — the benchmark measures the store, not a random generator.
 */
export function* layerBlocks(
  shape: LayerShape,
  from: number,
  to: number,
  salt: number,
): Generator<TensorBlock> {
  const perBlock = rowsPerBlock(shape);
  const template = new Float32Array(perBlock * shape.width * shape.dModel);
  let x = 0x9e3779b9 ^ salt;
  for (let i = 0; i < template.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    template[i] = ((x >>> 0) / 4294967296 - 0.5) * 0.02;
  }
  for (const table of ['u', 'v']) {
    for (let start = from; start < to; start += perBlock) {
      const end = Math.min(start + perBlock, to);
      const values = template.slice(0, (end - start) * shape.width * shape.dModel);
      values[0] = start;
      values[1] = salt;
      values[2] = table === 'u' ? 1 : 2;
      yield {
        name: `peer0.experts.${table}.rows.${String(start).padStart(6, '0')}-${String(end).padStart(6, '0')}`,
        dtype: 'float32',
        shape: [end - start, shape.width, shape.dModel],
        bytes: new Uint8Array(values.buffer),
      };
    }
  }
}
