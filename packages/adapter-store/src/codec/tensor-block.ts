import { createHash } from 'node:crypto';
import type { BlockDType, TensorBlock } from '@peer/core/serialization';
import { type DriverName, StoreValidationError } from '../errors.js';
import { checkBlockName, checkInt } from '../validation.js';

/**
 * Bytes per element of each block dtype — the same table as the core's `BYTES_PER_ELEMENT`, repeated
 * here so the store only *type*-imports `@peer/core`: its serialization entry point also exports layer
 * (de)serialisers that load TensorFlow.js, which a storage process must not pay for. The `Record` type
 * makes a dtype added to the core a compile error here until it is added.
 */
const BYTES_PER_ELEMENT: Readonly<Record<BlockDType, number>> = { float32: 4, int32: 4, uint8: 1 };

/** Largest accepted rank: far above any PEER/LoRA tensor, low enough to reject garbage shapes. */
const MAX_RANK = 8;
/** Largest single block (1 GiB): PostgreSQL's bytea limit; ~2 MB is the intended size. */
export const MAX_BLOCK_BYTES = 1024 * 1024 * 1024 - 1;

/** A validated block with its content hash, ready to be written. */
export interface HashedBlock {
  readonly name: string;
  readonly dtype: BlockDType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
  readonly hash: string;
}

/** sha256 of the bytes, lower-case hex: the block's identity. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `product(shape) * BYTES_PER_ELEMENT[dtype]`. */
export function expectedByteLength(dtype: BlockDType, shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1) * BYTES_PER_ELEMENT[dtype];
}

/** Checks name, dtype, shape and byte length of a block, then hashes it. Throws `StoreValidationError`. */
export function hashBlock(driver: DriverName, block: TensorBlock, field = 'block'): HashedBlock {
  const name = checkBlockName(driver, `${field}.name`, block?.name);
  const dtype = block.dtype;
  if (!Object.hasOwn(BYTES_PER_ELEMENT, dtype)) {
    throw new StoreValidationError(
      driver,
      `${field}(${name}).dtype`,
      "one of 'float32', 'int32', 'uint8'",
      dtype,
    );
  }
  if (!Array.isArray(block.shape) || block.shape.length > MAX_RANK) {
    throw new StoreValidationError(
      driver,
      `${field}(${name}).shape`,
      `an array of at most ${MAX_RANK} sizes`,
      block.shape,
    );
  }
  const shape = block.shape.map((d, i) => checkInt(driver, `${field}(${name}).shape[${i}]`, d));
  if (!(block.bytes instanceof Uint8Array)) {
    throw new StoreValidationError(driver, `${field}(${name}).bytes`, 'a Uint8Array', typeof block.bytes);
  }
  const expected = expectedByteLength(dtype, shape);
  if (block.bytes.byteLength !== expected) {
    throw new StoreValidationError(
      driver,
      `${field}(${name}).bytes.length`,
      `${expected} (= ${shape.join('×') || 'scalar'} × ${BYTES_PER_ELEMENT[dtype]} bytes of ${dtype})`,
      block.bytes.byteLength,
    );
  }
  if (expected > MAX_BLOCK_BYTES) {
    throw new StoreValidationError(
      driver,
      `${field}(${name}).bytes.length`,
      `at most ${MAX_BLOCK_BYTES}`,
      expected,
    );
  }
  return { name, dtype, shape, bytes: block.bytes, hash: sha256Hex(block.bytes) };
}

/**
 * A plain `Uint8Array` (never a Node `Buffer`) whose offset is 8-byte aligned, so callers can view it
 * as Float32Array/Int32Array; copies only when the source view is misaligned.
 */
export function aligned(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset % 8 === 0) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return copyBytes(bytes);
}

/** A fresh copy. (`Buffer#slice` returns a view, not a copy, so `.slice()` is not safe here.) */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}
