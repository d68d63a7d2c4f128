/** Element types a serialized tensor block may hold. */
export type BlockDType = 'float32' | 'int32' | 'uint8';

/** Bytes per element of each block dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<BlockDType, number>> = {
  float32: 4,
  int32: 4,
  uint8: 1,
};

/**
 * One named slice of a model's parameters, as stored and versioned by content hash.
 * `bytes` are little-endian, row-major, and exactly `product(shape) * BYTES_PER_ELEMENT[dtype]` long.
 *
 * @example { name: 'peer0.experts.u.rows.000000-000001', dtype: 'float32', shape: [1024, 256], bytes }
 */
export interface TensorBlock {
  readonly name: string;
  readonly dtype: BlockDType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** A whole model as blocks plus the JSON config needed to rebuild it. */
export interface SerializedModel {
  readonly kind: string;
  readonly config: unknown;
  readonly blocks: readonly TensorBlock[];
}
